"""Bearer-token authentication of /api/v1 requests, and who a request acts as."""

import hmac

TOKEN_NAME = "api"  # the one token's name, recorded as the sender of its commands


class BearerToken:
    """Checks the Authorization header against the API's token; there is always one."""

    def __init__(self, token: str, name: str = TOKEN_NAME) -> None:
        if not token:
            raise ValueError("the API needs a bearer token")
        self.name = name
        self._expected = f"Bearer {token}".encode()

    def __repr__(self) -> str:
        return f"BearerToken(name={self.name!r})"  # never the token

    def allows(self, authorization: str | None) -> bool:
        if authorization is None:
            return False
        # constant time, so the token cannot be guessed byte by byte from response times
        return hmac.compare_digest(authorization.encode(), self._expected)
