"""The service's document-signing key: what signs the statement on every accusé (and the
audit journal's heads).

An ECDSA P-256 key and its certificate from the service's PKI (:func:`pki.issue_document_signing`:
digitalSignature + nonRepudiation, the document-signing extended key usage), in a folder of its
own beside the pseudonymisation key:

    document-signing/
        signing.key        the current key (PKCS#8 PEM, 0600): the only private part
        signing.pem        its certificate
        keys/<kid>.pem     the certificates of the keys rotated out (their keys are deleted)
        certificates.pem   every certificate above, one bundle: what verifiers are given
        ca.pem, ca.key     only when no CA was given: the service's own document CA

**Rotation** (:func:`rotate`): a new key signs from now on; the old key is destroyed and its
certificate moves to ``keys/``, so that codes it signed still verify until that certificate
expires (then they read "revoked"). :func:`load_or_create_signer` rotates by itself when the
current certificate ends within :data:`RENEW_BEFORE`.

The key id (``kid``) is the first 16 hex digits of the SHA-256 of the certificate's
SubjectPublicKeyInfo: short enough for the 2D code, enough to tell a service's keys apart.

A real deployment has a recognised authority issue the certificate: put its ``signing.key``
and ``signing.pem`` in the folder before the first start (docs/service.md).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from proclient.core.domain import DomainError
from proclient.core.fileutil import file_lock, write_private
from proclient.core.i18n import _
from proclient.core.proof.ecdsa import key_id
from proclient.server.pki import CertifiedKey, create_ca, issue_document_signing

log = logging.getLogger("proclient.server")

FOLDER_NAME = "document-signing"
KEY_NAME, CERT_NAME, OLD_KEYS, BUNDLE_NAME = (
    "signing.key",
    "signing.pem",
    "keys",
    "certificates.pem",
)
CERTIFICATE_DAYS = 825
RENEW_BEFORE = timedelta(days=30)


class DocumentSigner:
    """The current document-signing key and every certificate the service signed with."""

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        older: list[x509.Certificate] | None = None,
    ) -> None:
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the document-signing key is ECDSA P-256")
        self._key = key
        self.certificate = certificate
        self.older = list(older or [])
        self.key_id = key_id(certificate)
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)

    def __repr__(self) -> str:
        return f"DocumentSigner(key_id={self.key_id!r})"

    def sign(self, data: bytes) -> bytes:
        """ECDSA P-256 / SHA-256 signature of ``data``, raw r||s (64 bytes) as COSE wants."""
        r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def all_certificates(self) -> list[x509.Certificate]:
        """Current first, then the rotated-out ones, expired or not (a verifier reports a code
        of an expired one as revoked rather than unknown)."""
        return [self.certificate, *self.older]

    def certificates(self, now: datetime | None = None) -> list[x509.Certificate]:
        """Current + older certificates not expired at ``now``."""
        now = now or datetime.now(UTC)
        return [c for c in self.all_certificates() if c.not_valid_after_utc > now]

    def bundle_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.all_certificates())


def _config_error(message: str) -> DomainError:
    return DomainError("SERVER_CONFIG", message)


def own_ca(directory: Path) -> CertifiedKey:
    """The folder's own document CA (``ca.pem``/``ca.key``), made on first use: the service's
    PKI when nobody gave one."""
    cert_path, key_path = directory / "ca.pem", directory / "ca.key"
    if cert_path.is_file() and key_path.is_file():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        return CertifiedKey(cert, key)  # type: ignore[arg-type]
    ca = create_ca("proclient - AC des documents du service DMP")
    write_private(key_path, ca.key_pem())
    write_private(cert_path, ca.certificate_pem, mode=0o644)
    log.info("document-signing CA created in %s", directory)
    return ca


def _read(directory: Path) -> DocumentSigner | None:
    key_path, cert_path = directory / KEY_NAME, directory / CERT_NAME
    if not key_path.exists() and not cert_path.exists():
        return None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if cert.public_key() != key.public_key():  # type: ignore[union-attr]
            raise ValueError("key and certificate differ")
        older = [
            x509.load_pem_x509_certificate(path.read_bytes())
            for path in sorted((directory / OLD_KEYS).glob("*.pem"))
        ]
        signer = DocumentSigner(key, cert, older)  # type: ignore[arg-type]
    except (OSError, ValueError, TypeError):
        raise _config_error(
            _(
                "La clé de signature des documents du service ({path}) est illisible ou ne "
                "correspond pas à son certificat : reprenez les fichiers d'origine.",
                path=directory,
            )
        ) from None
    if os.name == "posix" and key_path.stat().st_mode & 0o077:
        os.chmod(key_path, 0o600)
        log.warning("document-signing key was readable by others: now 0600")
    return signer


def _write_new(directory: Path, ca: CertifiedKey, now: datetime, days: int) -> None:
    issued = issue_document_signing(ca, days=days, now=now)
    write_private(directory / CERT_NAME, issued.certificate_pem, mode=0o644)
    write_private(directory / KEY_NAME, issued.key_pem())


def _write_bundle(directory: Path, signer: DocumentSigner) -> None:
    """The certificates' bundle verifiers read, written when it changed (not every start)."""
    pem, path = signer.bundle_pem(), directory / BUNDLE_NAME
    try:
        if path.read_bytes() == pem:
            return
    except OSError:
        pass  # absent or unreadable: written below
    write_private(path, pem, mode=0o644)


def _reread(directory: Path) -> DocumentSigner:
    """The signer just written or rotated in ``directory``, its bundle brought up to date."""
    signer = _read(directory)
    assert signer is not None
    _write_bundle(directory, signer)
    return signer


def _rotate_unlocked(directory: Path, ca: CertifiedKey, now: datetime, days: int) -> None:
    current = _read(directory)
    if current is not None:
        (directory / OLD_KEYS).mkdir(exist_ok=True, mode=0o700)
        write_private(
            directory / OLD_KEYS / f"{current.key_id}.pem", current.certificate_pem, mode=0o644
        )
    _write_new(directory, ca, now, days)
    log.info("document-signing key rotated (old key id %s)", current and current.key_id)


def load_or_create_signer(
    directory: Path | str,
    ca: CertifiedKey | None = None,
    *,
    now: datetime | None = None,
    days: int = CERTIFICATE_DAYS,
) -> DocumentSigner:
    """The signer kept in ``directory``: read, or made on first start with a certificate from
    ``ca`` (None: the folder's own CA, :func:`own_ca`); rotated when its certificate ends
    within :data:`RENEW_BEFORE`. Processes starting together take turns (a lock file)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = now or datetime.now(UTC)
    with file_lock(directory / ".lock"):
        signer = _read(directory)
        if signer is None:
            _write_new(directory, ca or own_ca(directory), now, days)
            log.info("document-signing key created in %s", directory)
        elif signer.certificate.not_valid_after_utc <= now + RENEW_BEFORE:
            _rotate_unlocked(directory, ca or own_ca(directory), now, days)
        else:
            _write_bundle(directory, signer)
            return signer
        return _reread(directory)


def rotate(
    directory: Path | str,
    ca: CertifiedKey | None = None,
    *,
    now: datetime | None = None,
    days: int = CERTIFICATE_DAYS,
) -> DocumentSigner:
    """A new key signs from now on (see the module); the old certificate stays in ``keys/``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = now or datetime.now(UTC)
    with file_lock(directory / ".lock"):
        _rotate_unlocked(directory, ca or own_ca(directory), now, days)
        return _reread(directory)


def read_certificates(path: Path | str) -> list[x509.Certificate]:
    """The certificates in a PEM bundle (a verifier's trust)."""
    return x509.load_pem_x509_certificates(Path(path).read_bytes())
