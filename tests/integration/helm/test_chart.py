"""The Helm chart, rendered by the real helm: what a cluster would be asked to run.

helm comes from helm/check.py (the script behind ``make helm-check``); the tests are
skipped, with the reason, only if it cannot be obtained.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from chargestream.app.dashboard import ui_command
from chargestream.domain.passwords import hash_password
from chargestream.domain.settings import PREFIX, Settings
from helm.check import VALUES, HelmUnavailable, RenderError, helm_binary, render, validate

Manifest = dict[str, Any]

# Distinctive credentials: none may appear in anything but a Secret.
SECRETS = {
    "kafka": "kafka-Sasl-Pw-7f3a91",
    "cassandra_user": "cassandra-User-2c81d0",
    "cassandra": "cassandra-Pw-5e0b44",
    "api_token": "api-Token-9d2c77e1",
    "charge_point": "cp-Basic-Pw-31aa08",
    "smtp": "smtp-Pw-64b1c9",
}
OPERATOR_HASH = hash_password("operator-password", iterations=1000)

# The Secrets TLS in the gateway reads: server certificate, charge point CA, client CA bundle.
TLS_SECRETS = {"server": "ocpp-server-tls", "ca": "charge-point-ca", "client_ca": "maker-ca"}
TLS_VARIABLES = {
    "CHARGESTREAM_TLS_CERT_FILE",
    "CHARGESTREAM_TLS_KEY_FILE",
    "CHARGESTREAM_TLS_CLIENT_CA_FILE",
    "CHARGESTREAM_CA_CERT_FILE",
    "CHARGESTREAM_CA_KEY_FILE",
}
TLS_ON = [
    "gateway.tls.enabled=true",
    f"gateway.tls.existingSecret={TLS_SECRETS['server']}",
    f"gateway.tls.ca.existingSecret={TLS_SECRETS['ca']}",
]

# Every option on: SASL over TLS, Cassandra auth and TLS, an API token, operators, charge
# point passwords, both Ingresses, TLS in the gateway with its own client CA bundle,
# ServiceMonitors. Credentials kept in the chart's Secrets.
EVERYTHING = {
    "ocpp": {
        "securityProfile": 2,
        "tlsTermination": "ingress",
        "defaultSecurityProfile": 3,
        "chargePointPasswords": {"passwords": {"CP-001": SECRETS["charge_point"]}},
    },
    "kafka": {
        "securityProtocol": "SASL_SSL",
        "sasl": {"username": "chargestream", "password": SECRETS["kafka"]},
        "tls": {"caSecret": "kafka-cluster-ca-cert"},
    },
    "cassandra": {
        "localDc": "dc1",
        "auth": {"username": SECRETS["cassandra_user"], "password": SECRETS["cassandra"]},
        "tls": {"enabled": True, "caSecret": "cassandra-ca"},
    },
    "gateway": {
        "service": {"type": "ClusterIP"},
        "ingress": {"enabled": True, "host": "ocpp.example.com", "tlsSecretName": "ocpp-tls"},
        "tls": {
            "enabled": True,
            "existingSecret": TLS_SECRETS["server"],
            "ca": {"existingSecret": TLS_SECRETS["ca"]},
            "clientCa": {"existingSecret": TLS_SECRETS["client_ca"], "key": "bundle.pem"},
        },
    },
    "api": {"token": {"value": SECRETS["api_token"]}},
    "ui": {
        "operators": {"hashes": {"admin": OPERATOR_HASH}},
        "ingress": {"enabled": True, "host": "csms.example.com", "tlsSecretName": "csms-tls"},
    },
    "metrics": {"serviceMonitor": {"enabled": True}},
    "notifications": {
        "smtp": {
            "host": "smtp.example.com",
            "port": 587,
            "user": "alerts",
            "password": SECRETS["smtp"],
            "from": "csms@example.com",
            "starttls": True,
        }
    },
}
SETTINGS_VARIABLES = {PREFIX + f.name.upper() for f in fields(Settings)}


@pytest.fixture(scope="module")
def helm() -> Path:
    try:
        return helm_binary()
    except HelmUnavailable as error:
        pytest.skip(f"helm is not available: {error}")


@pytest.fixture(scope="module")
def everything_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("values") / "values-everything.yaml"
    path.write_text(yaml.safe_dump(EVERYTHING))
    return path


@pytest.fixture(scope="module")
def renders(helm: Path, everything_file: Path) -> dict[str, list[Manifest]]:
    """The manifests for the default, dev and prod values files, and with every option."""
    rendered = {name: render(helm, files) for name, files in VALUES.items()}
    rendered["everything"] = render(helm, [everything_file])
    return rendered


@pytest.fixture(scope="module")
def default(renders: dict[str, list[Manifest]]) -> list[Manifest]:
    return renders["default"]


# ------------------------------------------------------------------ helpers


def find(manifests: list[Manifest], kind: str, component: str | None = None) -> list[Manifest]:
    return [
        m
        for m in manifests
        if m["kind"] == kind
        and (
            component is None
            or m["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component
        )
    ]


def one(manifests: list[Manifest], kind: str, component: str | None = None) -> Manifest:
    found = find(manifests, kind, component)
    assert len(found) == 1, f"{len(found)} {kind} for {component}"
    return found[0]


def pod_spec(workload: Manifest) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def container(manifests: list[Manifest], component: str) -> dict[str, Any]:
    (only,) = pod_spec(one(manifests, "Deployment", component))["containers"]
    return only


def workloads(manifests: list[Manifest]) -> Iterator[Manifest]:
    return (m for m in manifests if m["kind"] in ("Deployment", "Job"))


def config(manifests: list[Manifest]) -> dict[str, str]:
    return one(manifests, "ConfigMap")["data"]


def port_number(spec: dict[str, Any], port: int | str) -> int:
    """A container port given by number or by name."""
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in spec["ports"] if p["name"] == port]
    return number


def environment(manifests: list[Manifest], spec: dict[str, Any]) -> dict[str, Any]:
    """A container's variables: its ConfigMap's, then its own (valueFrom kept as a dict)."""
    variables: dict[str, Any] = {}
    for source in spec.get("envFrom", []):
        (cm,) = [
            m
            for m in find(manifests, "ConfigMap")
            if m["metadata"]["name"] == source["configMapRef"]["name"]
        ]
        variables.update(cm["data"])
    for variable in spec.get("env", []):
        variables[variable["name"]] = variable.get("value", variable.get("valueFrom"))
    return variables


# ------------------------------------------------------------------ the whole chart


@pytest.mark.parametrize("name", [*VALUES, "everything"])
def test_every_manifest_is_valid_for_kubernetes_1_33(
    renders: dict[str, list[Manifest]], name: str
) -> None:
    problems = {f"{m['kind']}/{m['metadata']['name']}": validate(m) for m in renders[name]}
    assert {k: v for k, v in problems.items() if v} == {}


def test_every_component_is_rendered(default: list[Manifest]) -> None:
    for component in ("gateway", "worker", "api", "ui"):
        assert container(default, component)["image"] == "chargestream:0.1.0"
    assert one(default, "Job", "bootstrap")


# ------------------------------------------------------------------ gateway


def test_gateway_service_exposes_ocpp_without_session_affinity(default: list[Manifest]) -> None:
    service = [s for s in find(default, "Service", "gateway") if s["spec"]["type"] != "ClusterIP"]
    (service,) = service
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"].get("sessionAffinity", "None") == "None"
    (port,) = service["spec"]["ports"]
    assert port["port"] == 9000
    assert port_number(container(default, "gateway"), port["targetPort"]) == 9000
    assert config(default)["CHARGESTREAM_OCPP_PORT"] == "9000"
    assert config(default)["CHARGESTREAM_OCPP_HOST"] == "0.0.0.0"


def test_dev_exposes_ocpp_on_a_node_port(renders: dict[str, list[Manifest]]) -> None:
    services = find(renders["dev"], "Service", "gateway")
    assert "NodePort" in {s["spec"]["type"] for s in services}


def test_gateway_probes_use_healthz_on_the_health_port(default: list[Manifest]) -> None:
    gateway = container(default, "gateway")
    health_port = int(config(default)["CHARGESTREAM_HEALTH_PORT"])
    assert health_port == 8081
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = gateway[probe]["httpGet"]
        assert check["path"] == "/healthz"
        assert port_number(gateway, check["port"]) == health_port


def test_gateway_closes_websockets_gracefully(default: list[Manifest]) -> None:
    spec = pod_spec(one(default, "Deployment", "gateway"))
    (gateway,) = spec["containers"]
    sleep = gateway["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep"
    # the preStop sleep, then SIGTERM closes every socket with time to spare
    assert spec["terminationGracePeriodSeconds"] >= int(sleep[1]) + 30


def test_gateway_is_autoscaled(renders: dict[str, list[Manifest]]) -> None:
    for name, minimum, maximum in (("default", 2, 10), ("prod", 3, 12)):
        deployment = one(renders[name], "Deployment", "gateway")
        hpa = one(renders[name], "HorizontalPodAutoscaler", "gateway")
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (minimum, maximum)
        assert "replicas" not in deployment["spec"]  # the HPA owns it


def test_gateway_has_a_disruption_budget(default: list[Manifest]) -> None:
    pdb = one(default, "PodDisruptionBudget", "gateway")
    labels = one(default, "Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


# ------------------------------------------------------------------ TLS in the gateway


def tls_files(manifests: list[Manifest]) -> dict[str, tuple[str, str]]:
    """Each file the gateway's TLS volume holds, by its path in the container: (Secret, key)."""
    deployment = one(manifests, "Deployment", "gateway")
    (mount,) = [m for m in container(manifests, "gateway")["volumeMounts"] if m["name"] == "tls"]
    assert mount["readOnly"] is True
    (volume,) = [v for v in pod_spec(deployment)["volumes"] if v["name"] == "tls"]
    assert volume["projected"]["defaultMode"] == 0o440
    return {
        f"{mount['mountPath']}/{item['path']}": (source["secret"]["name"], item["key"])
        for source in volume["projected"]["sources"]
        for item in source["secret"]["items"]
    }


def ocpp_service(manifests: list[Manifest]) -> Manifest:
    """The gateway's OCPP Service (not its metrics Service)."""
    (service,) = [
        s
        for s in find(manifests, "Service", "gateway")
        if "app.kubernetes.io/role" not in s["metadata"]["labels"]
    ]
    return service


def test_the_gateway_terminates_tls_with_certificates_from_secrets(
    renders: dict[str, list[Manifest]],
) -> None:
    manifests = renders["everything"]
    gateway = container(manifests, "gateway")
    files = tls_files(manifests)
    variables = environment(manifests, gateway)
    server, ca = TLS_SECRETS["server"], TLS_SECRETS["ca"]
    assert {name: files[variables[name]] for name in TLS_VARIABLES} == {
        "CHARGESTREAM_TLS_CERT_FILE": (server, "tls.crt"),
        "CHARGESTREAM_TLS_KEY_FILE": (server, "tls.key"),
        "CHARGESTREAM_TLS_CLIENT_CA_FILE": (TLS_SECRETS["client_ca"], "bundle.pem"),
        "CHARGESTREAM_CA_CERT_FILE": (ca, "tls.crt"),
        "CHARGESTREAM_CA_KEY_FILE": (ca, "tls.key"),
    }
    # 0440 files belong to root and the fsGroup: readable by the process through its group only
    context = pod_spec(one(manifests, "Deployment", "gateway"))["securityContext"]
    assert context["runAsGroup"] == context["fsGroup"] and context["runAsUser"] != 0
    assert config(manifests)["CHARGESTREAM_OCPP_TLS_PORT"] == "9443"
    assert port_number(gateway, "ocpp-tls") == 9443
    assert config(manifests)["CHARGESTREAM_DEFAULT_SECURITY_PROFILE"] == "3"
    service = ocpp_service(manifests)
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert ports["ocpp-tls"]["port"] == 9443
    assert port_number(gateway, ports["ocpp-tls"]["targetPort"]) == 9443
    assert port_number(gateway, ports["ocpp"]["targetPort"]) == 9000  # for the Ingress


def test_client_certificates_chain_to_the_signing_ca_by_default(helm: Path) -> None:
    manifests = render(helm, set_values=[*TLS_ON, "ocpp.securityProfile=3"])
    variables = environment(manifests, container(manifests, "gateway"))
    files = tls_files(manifests)
    client_ca = variables["CHARGESTREAM_TLS_CLIENT_CA_FILE"]
    assert client_ca == variables["CHARGESTREAM_CA_CERT_FILE"]
    assert files[client_ca] == (TLS_SECRETS["ca"], "tls.crt")
    assert set(files.values()) == {
        (TLS_SECRETS["server"], "tls.crt"),
        (TLS_SECRETS["server"], "tls.key"),
        (TLS_SECRETS["ca"], "tls.crt"),
        (TLS_SECRETS["ca"], "tls.key"),
    }


def test_only_the_gateway_gets_the_certificates_and_the_ca_key(
    renders: dict[str, list[Manifest]],
) -> None:
    manifests = renders["everything"]
    assert not TLS_VARIABLES & set(config(manifests))
    for workload in workloads(manifests):
        if workload["metadata"]["labels"]["app.kubernetes.io/component"] == "gateway":
            continue
        spec = pod_spec(workload)
        assert not [name for name in TLS_SECRETS.values() if name in json.dumps(spec)]
        for each in spec["containers"]:
            assert not TLS_VARIABLES & set(environment(manifests, each))


def test_prod_terminates_tls_in_the_gateway_and_offers_wss_only(
    renders: dict[str, list[Manifest]],
) -> None:
    prod = renders["prod"]
    assert set(tls_files(prod).values()) == {
        ("ocpp-example-com-tls", "tls.crt"),
        ("ocpp-example-com-tls", "tls.key"),
        ("chargestream-charge-point-ca", "tls.crt"),
        ("chargestream-charge-point-ca", "tls.key"),
    }
    service = ocpp_service(prod)
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"]) == ("ocpp-tls", 443)
    assert port_number(container(prod, "gateway"), port["targetPort"]) == 9443
    assert not [k for k in service["metadata"]["annotations"] if "ssl" in k]  # TCP, not TLS
    assert config(prod)["CHARGESTREAM_DEFAULT_SECURITY_PROFILE"] == "2"


@pytest.mark.parametrize("name", ["default", "dev"])
def test_without_gateway_tls_there_is_no_tls_listener(
    renders: dict[str, list[Manifest]], name: str
) -> None:
    manifests = renders[name]
    # the gateway would otherwise listen on 9443 with a CA of its own in a read-only data dir
    assert config(manifests)["CHARGESTREAM_OCPP_TLS_PORT"] == "0"
    assert config(manifests)["CHARGESTREAM_DEFAULT_SECURITY_PROFILE"] == "0"
    gateway = container(manifests, "gateway")
    assert "ocpp-tls" not in {p["name"] for p in gateway["ports"]}
    assert not TLS_VARIABLES & set(environment(manifests, gateway))
    volumes = pod_spec(one(manifests, "Deployment", "gateway"))["volumes"]
    assert [v["name"] for v in volumes] == ["tmp"]
    (port,) = ocpp_service(manifests)["spec"]["ports"]
    assert port["name"] == "ocpp"


# ------------------------------------------------------------------ replicas


def test_dev_runs_one_replica_of_everything(renders: dict[str, list[Manifest]]) -> None:
    dev = renders["dev"]
    assert {d["spec"]["replicas"] for d in find(dev, "Deployment")} == {1}
    assert find(dev, "HorizontalPodAutoscaler") == []


def test_replicas_follow_the_values(helm: Path) -> None:
    manifests = render(
        helm,
        set_values=[
            "gateway.autoscaling.enabled=false",
            "gateway.replicas=3",
            "worker.replicas=5",
            "api.replicas=4",
            "ui.replicas=2",
        ],
    )
    replicas = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d["spec"]["replicas"]
        for d in find(manifests, "Deployment")
    }
    assert replicas == {"gateway": 3, "worker": 5, "api": 4, "ui": 2}
    assert find(manifests, "HorizontalPodAutoscaler") == []


def test_workers_cannot_outnumber_the_frame_partitions(helm: Path) -> None:
    at_most = render(helm, set_values=["kafka.framesPartitions=6", "worker.replicas=6"])
    assert one(at_most, "Deployment", "worker")["spec"]["replicas"] == 6
    with pytest.raises(RenderError, match=r"worker.replicas \(7\) exceeds kafka.framesPartitions"):
        render(helm, set_values=["kafka.framesPartitions=6", "worker.replicas=7"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["ocpp.securityProfile=2"], "securityProfile 2 needs ocpp.tlsTermination"),
        (["ocpp.tlsTermination=ingress", "ocpp.securityProfile=2"], "needs gateway.ingress"),
        (["kafka.securityProtocol=SASL_SSL"], "needs kafka.sasl.username"),
        (["cassandra.tls.enabled=true"], "needs cassandra.tls.caSecret"),
        (["ocpp.chargePointPasswords.passwords.CP1=short"], "16 to 40 characters"),
        (["gateway.replica=3"], "'replica' not allowed"),
        (["api.token.value=fifteen-chars-x"], "an API token has at least 16 characters"),
        (["api.ftp.passivePorts.last=29999"], "api.ftp.passivePorts 30000-29999: give first"),
        (["api.ftp.passivePorts.last=30100"], "at most 100 ports"),
        (TLS_ON[:1] + TLS_ON[2:], "needs gateway.tls.existingSecret"),
        (TLS_ON[:2], "needs gateway.tls.ca.existingSecret: one CA"),
        (["ocpp.securityProfile=3"], "securityProfile 3 needs gateway.tls.enabled"),
        (["notifications.smtp.user=alerts"], "needs notifications.smtp.host"),
        (
            ["notifications.smtp.host=smtp", "notifications.smtp.password=pw"],
            "set user with password or existingSecret",
        ),
        (
            ["notifications.smtp.host=smtp", "notifications.smtp.user=alerts"],
            "set user with password or existingSecret",
        ),
        (["ocpp.defaultSecurityProfile=2"], "defaultSecurityProfile 2 needs gateway.tls.enabled"),
        (["gateway.tls.plainPort=false"], "without a port: set gateway.tls.enabled"),
        (
            [*TLS_ON, "gateway.tls.plainPort=false", "gateway.ingress.enabled=true"],
            "gateway.ingress routes to the plain OCPP port",
        ),
    ],
)
def test_inconsistent_values_are_refused(helm: Path, values: list[str], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        render(helm, set_values=values)


# ------------------------------------------------------------------ other components


def test_the_api_ftp_server_has_its_own_service_with_the_passive_ports(
    renders: dict[str, list[Manifest]], helm: Path
) -> None:
    default = renders["default"]
    (service,) = find(default, "Service", "api-ftp")
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    ports = {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports["ftp"] == (2121, "ftp")
    assert port_number(container(default, "api"), "ftp") == 2121
    passive = sorted(port for name, (port, _) in ports.items() if name != "ftp")
    assert passive == list(range(30000, 30010))
    settings = config(default)
    assert (settings["CHARGESTREAM_FTP_HOST"], settings["CHARGESTREAM_FTP_PORT"]) == (
        "0.0.0.0",
        "2121",
    )
    assert settings["CHARGESTREAM_FTP_PASSIVE_PORTS"] == "30000-30009"
    off = render(helm, set_values=["api.ftp.enabled=false"])
    assert find(off, "Service", "api-ftp") == [] and config(off)["CHARGESTREAM_FTP_PORT"] == "0"
    public = render(
        helm, set_values=["api.ftp.url=ftp://csms.example:21", "api.ftp.passiveAddress=203.0.113.7"]
    )
    assert config(public)["CHARGESTREAM_FTP_URL"] == "ftp://csms.example:21"
    assert config(public)["CHARGESTREAM_FTP_PASSIVE_ADDRESS"] == "203.0.113.7"


def test_api_and_ui_probes_use_their_health_endpoints(default: list[Manifest]) -> None:
    api, ui = container(default, "api"), container(default, "ui")
    for spec, path, port in ((api, "/healthz", 8080), (ui, "/_stcore/health", 8501)):
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert spec[probe]["httpGet"]["path"] == path
            assert port_number(spec, spec[probe]["httpGet"]["port"]) == port
    assert config(default)["CHARGESTREAM_API_PORT"] == "8080"
    service = one(default, "Service", "api")["spec"]["ports"][0]
    assert port_number(api, service["targetPort"]) == 8080


def test_worker_probes_its_healthz_and_exits_on_a_stalled_consumer(
    default: list[Manifest],
) -> None:
    worker = container(default, "worker")
    assert worker["args"] == ["worker"]
    assert worker["ports"] == [{"name": "health", "containerPort": 8081, "protocol": "TCP"}]
    for probe in ("startupProbe", "livenessProbe"):
        assert worker[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert worker["startupProbe"]["failureThreshold"] * 5 == 300
    settings = one(default, "ConfigMap", None)["data"]
    assert settings["CHARGESTREAM_WORKER_STALL_AFTER"] == "60"


def test_ui_starts_as_ui_launch_starts_it(default: list[Manifest]) -> None:
    ui = container(default, "ui")
    expected = ui_command(Settings(ui_host="0.0.0.0", ui_port=8501))
    assert ui["command"][:5] == [
        "python",
        "-m",
        "streamlit",
        "run",
        "/app/chargestream/ui/server.py",
    ]
    assert ui["command"][5:-1] == expected[5:-1]  # the flags
    assert ui["command"][-1] == "/app/chargestream/app/dashboard_app.py"


def test_every_process_has_its_pod_name_as_node_id(
    renders: dict[str, list[Manifest]],
) -> None:
    for manifests in renders.values():
        for workload in workloads(manifests):
            for spec in pod_spec(workload)["containers"]:
                node_id = environment(manifests, spec)["CHARGESTREAM_NODE_ID"]
                assert node_id == {"fieldRef": {"fieldPath": "metadata.name"}}


def test_ui_reads_operators_from_a_read_only_secret_in_the_data_dir(
    renders: dict[str, list[Manifest]],
) -> None:
    manifests = renders["everything"]
    ui = container(manifests, "ui")
    data_dir = config(manifests)["CHARGESTREAM_DATA_DIR"]
    (mount,) = [m for m in ui["volumeMounts"] if m["mountPath"] == data_dir]
    assert mount["readOnly"] is True
    (volume,) = [
        v
        for v in pod_spec(one(manifests, "Deployment", "ui"))["volumes"]
        if v["name"] == mount["name"]
    ]
    (item,) = volume["secret"]["items"]
    assert item["path"] == "operators.json"
    (secret,) = [
        s
        for s in find(manifests, "Secret")
        if s["metadata"]["name"] == volume["secret"]["secretName"]
    ]
    assert json.loads(secret["stringData"][item["key"]]) == {"admin": OPERATOR_HASH}
    assert "CHARGESTREAM_API_URL" in config(manifests)


def test_bootstrap_is_a_hook_before_install_and_upgrade(
    renders: dict[str, list[Manifest]],
) -> None:
    manifests = renders["everything"]
    job = one(manifests, "Job", "bootstrap")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    (spec,) = pod_spec(job)["containers"]
    assert spec["args"][:2] == ["bootstrap", "--charge-point-passwords"]
    passwords_dir = str(Path(spec["args"][2]).parent)
    assert passwords_dir in {m["mountPath"] for m in spec["volumeMounts"]}
    # its credentials come from a hook Secret created before it
    (secret,) = [
        s
        for s in find(manifests, "Secret")
        if "helm.sh/hook" in s["metadata"].get("annotations", {})
    ]
    annotations = secret["metadata"]["annotations"]
    assert int(annotations["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert json.loads(secret["stringData"]["passwords.json"]) == {"CP-001": SECRETS["charge_point"]}
    variables = environment(manifests, spec)
    assert (
        variables["CHARGESTREAM_FRAMES_PARTITIONS"]
        == config(manifests)["CHARGESTREAM_FRAMES_PARTITIONS"]
    )
    sasl_password = variables["CHARGESTREAM_KAFKA_SASL_PASSWORD"]["secretKeyRef"]
    assert sasl_password["name"] == secret["metadata"]["name"]


def test_ca_certificates_are_mounted_where_the_settings_say(
    renders: dict[str, list[Manifest]],
) -> None:
    manifests = renders["everything"]
    settings = config(manifests)
    for workload in workloads(manifests):
        for spec in pod_spec(workload)["containers"]:
            mounts = {m["mountPath"] for m in spec["volumeMounts"]}
            for variable in ("CHARGESTREAM_KAFKA_CA_FILE", "CHARGESTREAM_CASSANDRA_CA_FILE"):
                assert str(Path(settings[variable]).parent) in mounts


def test_service_monitors_scrape_named_metrics_ports(renders: dict[str, list[Manifest]]) -> None:
    manifests = renders["everything"]
    monitors = find(manifests, "ServiceMonitor")
    assert {m["metadata"]["labels"]["app.kubernetes.io/component"] for m in monitors} == {
        "gateway",
        "api",
    }
    for monitor in monitors:
        selector = monitor["spec"]["selector"]["matchLabels"]
        services = [
            s
            for s in find(manifests, "Service")
            if selector.items() <= s["metadata"]["labels"].items()
        ]
        assert services
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["path"] == "/metrics"
            for service in services:
                assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}


# ------------------------------------------------------------------ secrets and security


def test_secrets_appear_in_secrets_only(renders: dict[str, list[Manifest]]) -> None:
    manifests = renders["everything"]
    in_secrets = json.dumps(find(manifests, "Secret"))
    for name, value in SECRETS.items():
        assert value in in_secrets, name
        for manifest in manifests:
            if manifest["kind"] != "Secret":
                assert value not in json.dumps(manifest), f"{name} in {manifest['kind']}"
    for manifest in find(manifests, "ConfigMap"):
        assert not [k for k in manifest["data"] if "PASSWORD" in k or "TOKEN" in k]


def test_credentials_reach_containers_from_secrets(renders: dict[str, list[Manifest]]) -> None:
    manifests = renders["everything"]
    secret_names = {s["metadata"]["name"] for s in find(manifests, "Secret")}
    for workload in workloads(manifests):
        for spec in pod_spec(workload)["containers"]:
            for name, value in environment(manifests, spec).items():
                if name.endswith(("_PASSWORD", "_TOKEN", "_USERNAME")) and "SASL" not in name:
                    assert value["secretKeyRef"]["name"] in secret_names, name
    api = environment(manifests, container(manifests, "api"))
    assert "secretKeyRef" in api["CHARGESTREAM_API_TOKEN"]
    assert "secretKeyRef" in api["CHARGESTREAM_KAFKA_SASL_PASSWORD"]
    assert "CHARGESTREAM_KAFKA_SASL_PASSWORD" not in environment(
        manifests, container(manifests, "ui")
    )


def test_without_a_token_the_chart_generates_one_into_its_secret(
    renders: dict[str, list[Manifest]],
) -> None:
    manifests = renders["default"]
    (secret,) = find(manifests, "Secret")
    token = secret["stringData"]["api-token"]
    assert len(token) == 43 and token.isalnum()
    assert token != one(renders["dev"], "Secret")["stringData"]["api-token"]  # random each time
    for component in ("api", "ui"):
        variables = environment(manifests, container(manifests, component))
        assert variables["CHARGESTREAM_API_TOKEN"]["secretKeyRef"] == {
            "name": secret["metadata"]["name"],
            "key": "api-token",
        }
    for component in ("gateway", "worker"):
        assert "CHARGESTREAM_API_TOKEN" not in environment(
            manifests, container(manifests, component)
        )
    assert token not in json.dumps([m for m in manifests if m["kind"] != "Secret"])


def test_existing_secrets_are_referenced_not_rendered(
    renders: dict[str, list[Manifest]],
) -> None:
    prod = renders["prod"]
    assert find(prod, "Secret") == []
    api = environment(prod, container(prod, "api"))
    assert api["CHARGESTREAM_API_TOKEN"]["secretKeyRef"] == {
        "name": "chargestream-api-token",
        "key": "token",
    }
    assert api["CHARGESTREAM_CASSANDRA_PASSWORD"]["secretKeyRef"]["name"] == (
        "chargestream-cassandra"
    )


def test_the_smtp_password_reaches_only_the_processes_that_send_e_mail(
    renders: dict[str, list[Manifest]],
) -> None:
    manifests = renders["everything"]
    assert {k: v for k, v in config(manifests).items() if "SMTP" in k} == {
        "CHARGESTREAM_SMTP_HOST": "smtp.example.com",
        "CHARGESTREAM_SMTP_PORT": "587",
        "CHARGESTREAM_SMTP_USER": "alerts",
        "CHARGESTREAM_SMTP_FROM": "csms@example.com",
        "CHARGESTREAM_SMTP_STARTTLS": "true",
    }
    (secret,) = [s for s in find(manifests, "Secret") if "api-token" in s["stringData"]]
    assert secret["stringData"]["smtp-password"] == SECRETS["smtp"]
    for component in ("api", "worker"):  # the workers notify, the API sends test messages
        variables = environment(manifests, container(manifests, component))
        assert variables["CHARGESTREAM_SMTP_PASSWORD"]["secretKeyRef"] == {
            "name": secret["metadata"]["name"],
            "key": "smtp-password",
        }
    for component in ("gateway", "ui"):
        variables = environment(manifests, container(manifests, component))
        assert "CHARGESTREAM_SMTP_PASSWORD" not in variables
    (bootstrap,) = find(manifests, "Job")
    (job_container,) = pod_spec(bootstrap)["containers"]
    assert "CHARGESTREAM_SMTP_PASSWORD" not in environment(manifests, job_container)
    assert not any(
        "smtp-password" in s["stringData"] for s in find(manifests, "Secret") if s is not secret
    )


def test_an_existing_smtp_secret_is_referenced_and_no_smtp_means_no_settings(
    helm: Path, default: list[Manifest]
) -> None:
    manifests = render(
        helm,
        set_values=[
            "notifications.smtp.host=smtp.example.com",
            "notifications.smtp.user=alerts",
            "notifications.smtp.existingSecret=mail",
            "notifications.smtp.passwordKey=pw",
        ],
    )
    worker = environment(manifests, container(manifests, "worker"))
    assert worker["CHARGESTREAM_SMTP_PASSWORD"]["secretKeyRef"] == {"name": "mail", "key": "pw"}
    assert "smtp-password" not in one(manifests, "Secret")["stringData"]
    assert not [k for k in config(default) if "SMTP" in k]
    api = environment(default, container(default, "api"))
    assert "CHARGESTREAM_SMTP_PASSWORD" not in api


@pytest.mark.parametrize("name", [*VALUES, "everything"])
def test_every_container_runs_unprivileged(renders: dict[str, list[Manifest]], name: str) -> None:
    for workload in workloads(renders[name]):
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False
        for each in spec["containers"] + spec.get("initContainers", []):
            context = each["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {m["mountPath"] for m in each["volumeMounts"]} >= {"/tmp"}
            assert each["resources"]["requests"] and each["resources"]["limits"]


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize("name", [*VALUES, "everything"])
def test_rendered_variables_are_settings_the_code_reads(
    renders: dict[str, list[Manifest]], name: str
) -> None:
    manifests = renders[name]
    rendered = set(config(manifests))
    for workload in workloads(manifests):
        for spec in pod_spec(workload)["containers"]:
            rendered |= set(environment(manifests, spec))
    unknown = {v for v in rendered if v.startswith(PREFIX)} - SETTINGS_VARIABLES
    assert not unknown, f"not fields of chargestream.settings.Settings: {sorted(unknown)}"


@pytest.mark.parametrize("name", [*VALUES, "everything"])
def test_rendered_settings_are_valid(renders: dict[str, list[Manifest]], name: str) -> None:
    manifests = renders[name]
    for workload in workloads(manifests):
        for spec in pod_spec(workload)["containers"]:
            variables = {
                k: v if isinstance(v, str) else "from-the-cluster"
                for k, v in environment(manifests, spec).items()
            }
            settings = Settings.from_env(variables)
            assert settings.mode == "stack"
            hosts = (settings.ocpp_host, settings.api_host, settings.ui_host)
            assert hosts == ("0.0.0.0",) * 3 and settings.health_host == "0.0.0.0"
            assert str(settings.data_dir) == "/var/lib/chargestream"
