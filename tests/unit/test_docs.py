"""Every repository path named in the docs, the README and the code's docstrings exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    "domain", "sqlite", "eventlog", "storage", "gateway", "streams", "api", "ui", "app",
    "simulator", "services", "benchmarks", "helm", "tests", "testcontainers_tests",
]  # fmt: skip
# a path starts at a visible top-level entry of the repository, e.g. `gateway/server.py`; in
# code only paths of modules and pages count (others name files inside archives or caches)
TOP_LEVEL = {entry.name for entry in ROOT.iterdir() if not entry.name.startswith(".")} - {"data"}
CODE_SUFFIXES = (".py", ".md")
PATH = re.compile(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]*\w)")
LINK = re.compile(r"\]\((?!https?:|#|mailto:)([^)#\s]+)")


def _texts() -> list[Path]:
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "docs").glob("adr/*.md")]
    code = [path for room in SOURCES for path in (ROOT / room).rglob("*.py")]
    return pages + [path for path in code if path != Path(__file__).resolve()]


def _missing(name: str, text: str, folder: Path) -> list[str]:
    """``name:line: path`` for each path in ``text`` that is not in the repository."""
    missing = []
    for line_number, line in enumerate(text.splitlines(), 1):
        for match in PATH.finditer(line):
            ref = match.group(1)
            if ref.split("/")[0] not in TOP_LEVEL or (
                name.endswith(".py") and not ref.endswith(CODE_SUFFIXES)
            ):
                continue
            if not (ROOT / ref).exists() and not (folder / ref).exists():
                missing.append(f"{name}:{line_number}: {ref}")
        if name.endswith(".md"):
            for match in LINK.finditer(line):
                target = (folder / match.group(1)).resolve()  # outside the clone: broken too
                if not target.is_relative_to(ROOT) or not target.exists():
                    missing.append(f"{name}:{line_number}: link {match.group(1)}")
    return missing


def test_every_named_path_exists() -> None:
    missing = [
        entry
        for path in _texts()
        for entry in _missing(str(path.relative_to(ROOT)), path.read_text(), path.parent)
    ]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("See `gateway/nowhere.py`.", ["page.md:1: gateway/nowhere.py"]),
        ("See [ADR 99](adr/0099-nothing.md).", ["page.md:1: link adr/0099-nothing.md"]),
        ("See [paper](../../shared/paper.txt).", ["page.md:1: link ../../shared/paper.txt"]),
        ("See `gateway/server.py` and `cassandra/cassandra.yaml`.", []),
    ],
)
def test_missing_paths_are_found_and_others_ignored(text: str, found: list[str]) -> None:
    assert _missing("page.md", text, ROOT / "docs") == found
