"""Find the Java 17 runtime and the Maven executable the launcher needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chargestream.services.process import ServiceError

JAVA_MAJOR = 17  # Cassandra 5.0 supports Java 11 and 17; Kafka 3.9 runs on both
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


@dataclass(frozen=True)
class Java:
    """A Java runtime: its ``java`` executable and major version."""

    executable: Path
    major: int

    @property
    def home(self) -> Path:
        return self.executable.parent.parent


def find_java() -> Java:
    """The first Java 17 among $JAVA_HOME, /usr/lib/jvm/*17* and ``java`` on PATH."""
    seen: list[str] = []
    for candidate in _java_candidates():
        major = java_major(candidate)
        if major == JAVA_MAJOR:
            return Java(candidate, major)
        seen.append(f"{candidate} (version {major or 'unknown'})")
    found = "; found: " + ", ".join(seen) if seen else "; no java found"
    raise ServiceError(
        f"Java {JAVA_MAJOR} is needed (Cassandra 5.0 runs on 11 or 17 only){found}. "
        "Install it (apt-get install openjdk-17-jre-headless) or set JAVA_HOME to a JDK 17."
    )


def _java_candidates() -> Iterator[Path]:
    """Existing ``java`` executables in search order, each once."""
    paths: list[Path] = []
    if home := os.environ.get("JAVA_HOME"):
        paths.append(Path(home) / "bin" / "java")
    paths.extend(Path(jvm) / "bin" / "java" for jvm in sorted(Path("/usr/lib/jvm").glob("*17*")))
    if on_path := shutil.which("java"):
        paths.append(Path(on_path))
    seen: set[Path] = set()
    for path in paths:
        real = path.resolve()
        if real not in seen and os.access(real, os.X_OK):
            seen.add(real)
            yield real


def java_major(executable: Path) -> int | None:
    """The major version ``executable -version`` reports (8 for "1.8.0_x"), or None."""
    try:
        done = subprocess.run(
            [str(executable), "-version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(done.stderr)
    if not match:
        return None
    major, minor = int(match[1]), int(match[2] or 0)
    return minor if major == 1 else major


def find_maven() -> Path:
    """The ``mvn`` executable from $MAVEN_HOME or PATH."""
    home = os.environ.get("MAVEN_HOME")
    candidate = Path(home) / "bin" / "mvn" if home else None
    if candidate and os.access(candidate, os.X_OK):
        return candidate
    if on_path := shutil.which("mvn"):
        return Path(on_path)
    raise ServiceError(
        "Maven (mvn) is needed to fetch the Kafka and Cassandra jars from Maven Central. "
        "Install it (apt-get install maven) or put mvn on PATH."
    )
