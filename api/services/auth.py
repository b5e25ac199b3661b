"""Bearer-token authentication of /api/v1 requests."""

import hmac


class BearerToken:
    """Checks the Authorization header against the configured token, if there is one."""

    def __init__(self, token: str | None) -> None:
        self._expected = None if token is None else f"Bearer {token}".encode()

    def allows(self, authorization: str | None) -> bool:
        if self._expected is None:
            return True
        if authorization is None:
            return False
        # constant time, so the token cannot be guessed byte by byte from response times
        return hmac.compare_digest(authorization.encode(), self._expected)
