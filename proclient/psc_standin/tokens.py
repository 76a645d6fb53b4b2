"""Signing the stand-in's tokens (joserfc, RS256, a stable ``kid``), the forged ones the
tests ask for, and checking its own access tokens at the user-info endpoint."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"
# The forgeries ``PscStandIn.forge["signing"]`` may ask for.
FORGED_SIGNINGS = frozenset({"other_key", "none", "unknown_kid"})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_token(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
    """An ``alg: none`` JWT (RFC 7519 §6): header and claims, an empty signature. Nothing to
    sign, so nothing cryptographic is built by hand."""
    header = {**header, "alg": "none"}
    parts = [json.dumps(part, separators=(",", ":")).encode("utf-8") for part in (header, claims)]
    return ".".join(_b64url(part) for part in parts) + "."


class TokenSigner:
    """The provider's key, its JWKS, and the tokens made with it."""

    def __init__(self, key: RSAKey) -> None:
        self.key = key
        self.kid: str = key.kid or key.thumbprint()
        self.key_set = KeySet([key])
        self._other_key: RSAKey | None = None
        self._other_lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document (``kid``, ``alg`` RS256, ``use`` sig; no private part)."""
        return self.key_set.as_dict(private=False)

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode({"alg": ALGORITHM, "kid": self.kid, "typ": "JWT"}, dict(claims), self.key)

    def _another_key(self) -> RSAKey:
        """A second RSA key, never published: made once, the first time a test asks for it."""
        with self._other_lock:
            if self._other_key is None:
                self._other_key = RSAKey.generate_key(2048, private=True)
            return self._other_key

    def sign_forged(self, claims: Mapping[str, Any], signing: str | None) -> str:
        """``claims`` signed as ``signing`` asks: None is the real signature; "other_key" a
        valid RS256 signature by a key the JWKS does not hold, under the real ``kid``;
        "unknown_kid" the real key under a ``kid`` the JWKS does not list (only the kid is
        wrong); "none" an unsigned ``alg: none`` token under the real ``kid``."""
        if signing is None:
            return self.sign(claims)
        if signing == "other_key":
            header = {"alg": ALGORITHM, "kid": self.kid, "typ": "JWT"}
            return jwt.encode(header, dict(claims), self._another_key())
        if signing == "unknown_kid":
            header = {"alg": ALGORITHM, "kid": f"unknown-{self.kid[:8]}", "typ": "JWT"}
            return jwt.encode(header, dict(claims), self.key)
        if signing == "none":
            return unsigned_token({"kid": self.kid, "typ": "JWT"}, claims)
        raise ValueError(f"unknown forgery {signing!r}: one of {sorted(FORGED_SIGNINGS)}")

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of ``token`` if it is one of ours (RS256, our ``kid``, our signature);
        None otherwise. Times are the caller's to check (its clock is the stand-in's)."""
        try:
            decoded = jwt.decode(token, self.key_set, algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError):
            return None
        if decoded.header.get("kid") != self.kid:
            return None
        return dict(decoded.claims)
