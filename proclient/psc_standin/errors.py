"""OAuth 2.0 errors in RFC 6749's shape (§5.2): ``{"error", "error_description"}``."""

from __future__ import annotations


class OAuthError(Exception):
    """An error answer of the provider: its HTTP status, code and description, and the
    headers it needs (``WWW-Authenticate`` for a 401)."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}

    @classmethod
    def invalid_client(cls, *, basic: bool) -> OAuthError:
        headers = {"WWW-Authenticate": 'Basic realm="esante-wallet"'} if basic else {}
        return cls("invalid_client", "client authentication failed", 401, headers)

    @classmethod
    def invalid_grant(cls, description: str) -> OAuthError:
        return cls("invalid_grant", description)

    @classmethod
    def invalid_token(cls, description: str) -> OAuthError:
        header = f'Bearer realm="esante-wallet", error="invalid_token", error_description="{description}"'
        return cls("invalid_token", description, 401, {"WWW-Authenticate": header})
