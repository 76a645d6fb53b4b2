"""What the statement (statement.py) and the journal's heads (journal.py) share: the id of the
service key that signed, and the check of a raw ECDSA P-256 signature (COSE's r||s form)."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def key_id(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's SubjectPublicKeyInfo (DER), hex, first 16 characters."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()[:16]


def check_signature(certificate: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """A raw r||s ECDSA P-256 SHA-256 signature of ``data`` by ``certificate``'s key."""
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
