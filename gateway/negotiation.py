"""Which OCPP version a WebSocket handshake selects.

The gateway serves the versions of the setting ``ocpp_versions``; a registration may pin
one. Of what remains, the charge point's own order of preference in
``Sec-WebSocket-Protocol`` decides (not the gateway's order): a charge point offering
``ocpp1.6, ocpp2.0.1`` speaks 1.6.
"""

from __future__ import annotations

from collections.abc import Iterable

from chargestream.domain.protocols import OcppVersion


def offered(headers: Iterable[str]) -> list[str]:
    """The subprotocols of ``Sec-WebSocket-Protocol`` header values, in the client's order."""
    return [name.strip() for header in headers for name in header.split(",") if name.strip()]


def choose_version(
    offered: list[str], served: tuple[OcppVersion, ...], pinned: OcppVersion | None = None
) -> OcppVersion | None:
    """The first version the charge point offers that the gateway serves (and, with
    ``pinned``, that is the pinned one); None: no common version."""
    allowed = {version.value: version for version in served if pinned in (None, version)}
    return next((allowed[name] for name in offered if name in allowed), None)
