"""The software credential: a certificate and a PIN-encrypted key in files (demo, training).

It stands where a CPS card stands, behind the same Credential port: the key is unlocked with
the holder's code (the "code porteur") and signs the service's challenges with RSA PKCS#1 v1.5
and SHA-256, as the card's authentication key does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from proclient.core.cps_profile import professional_from_certificate
from proclient.core.domain import DomainError, Professional
from proclient.core.i18n import _


class KeyFiles(Protocol):
    """Where a software credential lives: a PIN-encrypted key, its certificate, and the code
    that opens it (the demo service's ``DemoProfessional`` is one)."""

    @property
    def key_path(self) -> Path: ...

    @property
    def cert_path(self) -> Path: ...

    @property
    def pin(self) -> str: ...


class SoftwareCredential:
    """An unlocked software credential; build it with :meth:`unlock`."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self._certificate = certificate
        self._professional = professional_from_certificate(certificate)

    @classmethod
    def unlock(cls, key_path: Path, cert_path: Path, pin: str | bytearray) -> SoftwareCredential:
        """Read the certificate and decrypt the key with ``pin`` (a bytearray from the PIN
        screen is read in place; the caller wipes it).

        Raises DomainError PIN_WRONG for a wrong code, CREDENTIAL_MISSING when a file cannot be
        read, CREDENTIAL_INVALID when the files are not a matching certificate and RSA key."""
        try:
            key_pem = Path(key_path).read_bytes()
            cert_pem = Path(cert_path).read_bytes()
        except OSError:
            raise DomainError(
                "CREDENTIAL_MISSING",
                _("Le certificat de démonstration est introuvable : relancez la démonstration."),
            ) from None
        invalid = DomainError(
            "CREDENTIAL_INVALID",
            _(
                "Le certificat ou la clé de démonstration est illisible : relancez la démonstration."
            ),
        )
        try:
            certificate = x509.load_pem_x509_certificate(cert_pem)
        except ValueError:
            raise invalid from None
        if not pin:
            raise _wrong_pin()
        try:
            password = pin.encode() if isinstance(pin, str) else pin
            key = serialization.load_pem_private_key(key_pem, password=password)
        except TypeError:
            # The key is not encrypted, or is and no password was given: not a usable credential.
            raise invalid from None
        except ValueError:
            # cryptography reports a wrong password and a corrupt file alike; the file was
            # written by ensure_demo_pki, so the code is by far the likelier cause.
            raise _wrong_pin() from None
        if not isinstance(key, rsa.RSAPrivateKey) or (
            key.public_key().public_numbers() != certificate.public_key().public_numbers()
        ):
            raise invalid
        try:
            return cls(key, certificate)
        except ValueError:
            raise invalid from None

    @property
    def professional(self) -> Professional:
        return self._professional

    @property
    def certificate_pem(self) -> bytes:
        return self._certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with RSA PKCS#1 v1.5 and SHA-256."""
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    @contextlib.contextmanager
    def document_signer(self) -> Iterator:
        """pyHanko's software signer on this key (the demo fallback, training rooms)."""
        from proclient.credentials.pdf_signing import software_signer

        yield software_signer(self._key, self._certificate)

    def __repr__(self) -> str:
        return f"SoftwareCredential(id_nat={self._professional.id_nat!r})"


def unlock_demo(files: KeyFiles) -> SoftwareCredential:
    """The unlocked credential of a demo professional (``ensure_demo_pki``'s files and PIN)."""
    return SoftwareCredential.unlock(files.key_path, files.cert_path, files.pin)


def _wrong_pin() -> DomainError:
    return DomainError(
        "PIN_WRONG", _("Code porteur incorrect : vérifiez les 4 chiffres puis réessayez.")
    )
