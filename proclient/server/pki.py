"""A small PKI for the DMP service: a demo CA, CPS-like professional certificates, a TLS
server certificate, and the checks the service runs on a professional's certificate.

How a certificate names its professional (the CPS profile) is :mod:`proclient.core.cps_profile`,
shared with the client. Professional keys are RSA 2048 like the cards'; signatures are RSA
PKCS#1 v1.5 with SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from proclient.core.cps_profile import (  # noqa: F401 (OID_PROFESSION_CODE: re-exported)
    OID_PROFESSION_CODE,
    profession_code_extension,
    professional_from_certificate,
    professional_subject,
)
from proclient.core.domain import Professional

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class CertifiedKey:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: PrivateKey

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, password: str | None = None) -> bytes:
        """The key as PKCS#8 PEM, encrypted with ``password`` when one is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password.encode())
            if password
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


class CertificateRejected(Exception):
    """A professional certificate the service does not accept; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- Issuing ---------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _builder(subject: x509.Name, issuer: x509.Name, public_key, start: datetime, days: int):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - timedelta(minutes=5))
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def create_ca(
    name: str = "proclient - AC de démonstration", *, days: int = 3650, now: datetime | None = None
) -> CertifiedKey:
    """A self-signed CA (EC P-256) that issues professional and server certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "proclient"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    cert = (
        _builder(subject, subject, key.public_key(), _now(now), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return CertifiedKey(cert, key)


def _issue(ca: CertifiedKey, builder: x509.CertificateBuilder) -> x509.Certificate:
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    return builder.add_extension(aki, critical=False).sign(ca.key, hashes.SHA256())


def _signing_key_usage(*, non_repudiation: bool) -> x509.KeyUsage:
    """A leaf's key usage: digitalSignature, and nonRepudiation (contentCommitment) for a key
    that signs documents."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def issue_professional(
    ca: CertifiedKey, professional: Professional, *, days: int = 730, now: datetime | None = None
) -> CertifiedKey:
    """An authentication certificate and RSA 2048 key laid out like a CPS card's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = professional_subject(professional)
    builder = (
        _builder(subject, ca.certificate.subject, key.public_key(), _now(now), days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signing_key_usage(non_repudiation=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(profession_code_extension(professional.profession_code), critical=False)
    )
    return CertifiedKey(_issue(ca, builder), key)


def issue_server_certificate(
    ca: CertifiedKey, hosts: Sequence[str], *, days: int = 397, now: datetime | None = None
) -> CertifiedKey:
    """A TLS server certificate (EC P-256) for ``hosts`` (DNS names or IP addresses)."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    builder = (
        _builder(subject, ca.certificate.subject, key.public_key(), _now(now), days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    return CertifiedKey(_issue(ca, builder), key)


OID_KP_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning
OID_MS_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")  # readers' older one


def issue_document_signing(
    ca: CertifiedKey,
    name: str = "proclient - service DMP - signature des documents",
    *,
    days: int = 825,
    now: datetime | None = None,
) -> CertifiedKey:
    """The service's document-signing certificate and its new ECDSA P-256 key: key usage
    digitalSignature and nonRepudiation (contentCommitment), extended key usage document
    signing (RFC 9336's id-kp-documentSigning, and Microsoft's for the readers that know
    only that one). What signs the statements of the accusés (server/signing_key.py)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "proclient"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    builder = (
        _builder(subject, ca.certificate.subject, key.public_key(), _now(now), days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signing_key_usage(non_repudiation=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([OID_KP_DOCUMENT_SIGNING, OID_MS_DOCUMENT_SIGNING]),
            critical=False,
        )
    )
    return CertifiedKey(_issue(ca, builder), key)


# --- Reading and checking ---------------------------------------------------------------------


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle."""
    return x509.load_pem_x509_certificates(pem)


def check_professional_certificate(
    pem: bytes, trusted: Sequence[x509.Certificate], at: datetime
) -> tuple[x509.Certificate, Professional]:
    """Parse and check a professional's certificate: issued by one of ``trusted`` CAs, valid
    at ``at``, usable for authentication. Raises CertificateRejected with a stable code."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise CertificateRejected("AUTH_CERT_INVALID") from None
    issuer = next((ca for ca in trusted if _issued_by(cert, ca)), None)
    if issuer is None:
        raise CertificateRejected("AUTH_CERT_UNTRUSTED")
    for certificate in (cert, issuer):
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            raise CertificateRejected("AUTH_CERT_EXPIRED")
    if not isinstance(cert.public_key(), rsa.RSAPublicKey) or _is_ca(cert):
        raise CertificateRejected("AUTH_CERT_INVALID")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.digital_signature:
            raise CertificateRejected("AUTH_CERT_INVALID")
    except x509.ExtensionNotFound:
        pass
    try:
        return cert, professional_from_certificate(cert)
    except ValueError:
        raise CertificateRejected("AUTH_CERT_INVALID") from None


def check_professional_signature(
    pem: bytes,
    signature_b64: str,
    data: bytes,
    trusted: Sequence[x509.Certificate],
    at: datetime,
) -> Professional:
    """The professional who signed ``data``: their certificate passes
    :func:`check_professional_certificate` at ``at`` and ``signature_b64`` (base64) is its
    key's RSA PKCS#1 v1.5 SHA-256 signature of ``data``. What the login checks on the
    challenge (server/auth.py) and a creation captured offline on its consent record
    (server/offline.py). Raises CertificateRejected: the certificate's code, or
    AUTH_BAD_SIGNATURE."""
    cert, professional = check_professional_certificate(pem, trusted, at)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise CertificateRejected("AUTH_BAD_SIGNATURE") from None
    if not verify_signature(cert, signature, data):
        raise CertificateRejected("AUTH_BAD_SIGNATURE")
    return professional


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    if not _is_ca(ca):
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def verify_signature(cert: x509.Certificate, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is the RSA PKCS#1 v1.5 SHA-256 signature of ``data``."""
    public_key = cert.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
