"""The transaction ledger: one JSON line per completed transaction.

Used to reconcile what the stations delivered against what the CSMS stored.
Every line is a single ``write`` on an ``O_APPEND`` descriptor, so the
processes of one fleet can share the file without interleaving lines.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson


class Ledger:
    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, entry: dict[str, Any]) -> None:
        os.write(self._fd, orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))

    def close(self) -> None:
        os.close(self._fd)
