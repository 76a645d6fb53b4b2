"""pyHanko signers made of an unlocked credential, for the accusé's PAdES signature.

The card: pyHanko's :class:`~pyhanko.sign.pkcs11.PKCS11Signer` on the session the code porteur
already opened (no second code). A real CPS holds a signature key, CPS_PRIV_SIG, beside the
authentication key, with its « Certificat de Signature CPS » (key usage nonRepudiation); it is
preferred. The demo card (a SoftHSM2 token) holds one key only, the authentication one: it
signs then, and docs/workstation.md says what a real deployment changes. A card whose
signature key asks for its code again at each use (CKA_ALWAYS_AUTHENTICATE) makes the
signature fail: the accusé is then printed unsigned and says so, never signed by another key.

The software credential (demo fallback, training rooms): pyHanko's SimpleSigner on its key.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning

SIGNATURE_CERT_LABEL = "Certificat de Signature CPS"
SIGNATURE_KEY_LABEL = "CPS_PRIV_SIG"


@contextlib.contextmanager
def quiet_pyhanko() -> Iterator[None]:
    """Importing pyHanko warns that cryptography deprecates DSA (pyHanko still names it):
    nothing a professional can act on, and a line on a terminal the TUI draws on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        yield


def asn1_certificate(certificate: x509.Certificate):
    """``certificate`` as asn1crypto's, what pyHanko takes."""
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def software_signer(key, certificate: x509.Certificate):
    """pyHanko's signer for a private key held in memory (the software credential)."""
    from asn1crypto import keys

    with quiet_pyhanko():
        from pyhanko.sign.signers import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore

    class LoadedKeySigner(SimpleSigner):
        """pyHanko's SimpleSigner, signing with the key already loaded: SimpleSigner loads
        it again from DER at each signature, and OpenSSL then checks the RSA key (about
        0.1 s, four times the card's signature: benchmarks/receipt.py)."""

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            if mechanism.signature_algo != "rsassa_pkcs1v15":
                return super().sign_raw(data, digest_algorithm)
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding

            digest = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
            return key.sign(data, padding.PKCS1v15(), digest[digest_algorithm.lower()]())

    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert = asn1_certificate(certificate)
    return LoadedKeySigner(
        signing_cert=cert,
        signing_key=keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs([cert]),
    )


def _is_signature_certificate(label: str, certificate: x509.Certificate) -> bool:
    if label == SIGNATURE_CERT_LABEL:
        return True
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return usage.content_commitment


def signature_key(boundary, auth_certificate: x509.Certificate, auth_key_id: bytes):
    """(certificate, CKA_ID) of the key that signs documents on the card: the signature key
    when the card has one (its certificate labelled so, or carrying nonRepudiation, and a
    private key with the same CKA_ID), else the authentication key (the demo's single key)."""
    keys = {key_id for _label, key_id, _key in boundary.private_keys() if key_id}
    for label, cert_id, der in boundary.certificates():
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        if cert_id in keys and _is_signature_certificate(label, certificate):
            return certificate, cert_id
    return auth_certificate, auth_key_id


def card_signer(session, certificate: x509.Certificate, key_id: bytes, raw: bool):
    """pyHanko's PKCS#11 signer on an open, logged-in ``session``. ``raw``: the module lacks
    CKM_SHA256_RSA_PKCS, pyHanko hashes and wraps the DigestInfo itself (CKM_RSA_PKCS)."""
    with quiet_pyhanko():
        from pyhanko.sign.pkcs11 import PKCS11Signer

    return PKCS11Signer(
        session,
        signing_cert=asn1_certificate(certificate),
        key_id=key_id,
        use_raw_mechanism=raw,
    )
