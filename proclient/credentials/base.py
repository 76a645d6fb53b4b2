"""The credential port: the professional's identity and a key that signs challenges."""

from __future__ import annotations

from contextlib import AbstractContextManager
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


class SignsDocuments(Protocol):
    """A credential that can also sign the accusé's PDF (both the PKCS#11 and the software
    one; an e-CPS session has no credential at all). ``document_signer()`` is a context
    manager giving a pyHanko ``Signer`` for the professional's signature key, through the
    session already unlocked: no second code (credentials/pdf_signing.py)."""

    def document_signer(self) -> AbstractContextManager: ...
