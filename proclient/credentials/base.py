"""The credential port: the professional's identity and a key that signs challenges."""

from __future__ import annotations

from typing import Protocol

from proclient.core.domain import Professional


class Credential(Protocol):
    """An unlocked credential: the professional's certificate and a signing key.

    The software credential (demo, training) and the PKCS#11 one (CPS card) both satisfy it.
    """

    @property
    def professional(self) -> Professional: ...

    @property
    def certificate_pem(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with the authentication key (RSA PKCS#1 v1.5, SHA-256)."""
        ...
