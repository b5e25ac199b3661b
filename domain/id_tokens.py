"""The CSMS's id tags as OCPP 2.0.1 IdTokens.

An id tag in the store has no token type; the CSMS sends its tags as ``Central`` tokens
(issued by the CSMS), as its 2.0.1 answers name a group id token.
"""

from __future__ import annotations

CENTRAL = "Central"
MAX_ID_TOKEN = 36  # IdTokenType.idToken: string[36]


def id_token(value: str) -> dict[str, str]:
    return {"idToken": value, "type": CENTRAL}
