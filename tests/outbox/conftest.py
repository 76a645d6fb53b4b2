"""An outbox in a private home, a signing credential, and a minor's recorded creation."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from proclient.core.domain import (
    BirthDate,
    Consent,
    IdentitySource,
    LegalRepresentative,
    Professional,
    Relationship,
    Sex,
)
from proclient.core.identity import Document, HeldIdentity
from proclient.outbox.keys import OutboxKey
from proclient.outbox.store import EncryptedOutbox

NIR = "114067511203551"


class SigningCredential:
    """The credential port with a throw-away RSA key and a self-signed certificate."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate_pem: bytes) -> None:
        self._key = key
        self._certificate_pem = certificate_pem

    @property
    def professional(self) -> Professional:
        return Professional("810002345678", "INFIRMIER", "Camille", "60")

    @property
    def certificate_pem(self) -> bytes:
        return self._certificate_pem

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture(scope="session")
def credential() -> SigningCredential:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "810002345678")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return SigningCredential(key, certificate.public_bytes(serialization.Encoding.PEM))


@pytest.fixture
def minor_request():
    """Hugo DURAND (demo card) as held from the card, his livret de famille seen, his
    mother as legal representative: the arguments of ``capture`` before the credential."""
    held = HeldIdentity(
        last_name="DURAND",
        first_name="Hugo",
        birth_date=BirthDate("20140610"),
        sex=Sex.MALE,
        nir=NIR,
        source=IdentitySource.CARD,
        rank=3,
    )
    return (
        held,
        Document.FAMILY_BOOK,
        Consent(creation=True, samu_access=True, break_glass_access=False),
        LegalRepresentative(Relationship("MTH"), "DURAND", "Sophie"),
    )


@pytest.fixture
def homes(tmp_path):
    """The data and config folders, apart, as on a workstation."""
    return tmp_path / "data", tmp_path / "config"


@pytest.fixture
def no_keyring(monkeypatch):
    """``keyring`` not installed: importing it fails."""
    monkeypatch.setitem(__import__("sys").modules, "keyring", None)


@pytest.fixture
def outbox(homes, no_keyring) -> EncryptedOutbox:
    data, config = homes
    return EncryptedOutbox(data / "outbox", OutboxKey(config))


def signature_is_valid(entry) -> bool:
    """Whether the entry's signature is its certificate's over its consent record (RSA
    PKCS#1 v1.5, SHA-256, as Credential.sign). The service checks it with the certificate
    chain (tests/service/test_offline_capture.py); here, that capture signs those bytes."""
    from cryptography.exceptions import InvalidSignature

    key = x509.load_pem_x509_certificate(entry.certificate_pem).public_key()
    try:
        key.verify(entry.signature, entry.record, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
