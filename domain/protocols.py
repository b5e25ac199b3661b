"""The OCPP versions the CSMS speaks, by their WebSocket subprotocol names.

Everything that differs by version (schemas, error codes, handlers, derivation, the
actions the CSMS may send) is looked up by an ``OcppVersion``; see
docs/adr/0009-ocpp-201-beside-16.md.
"""

from __future__ import annotations

from enum import StrEnum


class OcppVersion(StrEnum):
    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"

    @property
    def label(self) -> str:
        """As people write it: 1.6, 2.0.1."""
        return self.value.removeprefix("ocpp")
