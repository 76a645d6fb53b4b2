"""The service's document-signing key (server/signing_key.py): made once, private, reloaded,
rotated with the old certificates kept, and made by the demo service and `proclient serve`."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from proclient.core.domain import DomainError
from proclient.server.pki import OID_KP_DOCUMENT_SIGNING, OID_MS_DOCUMENT_SIGNING
from proclient.server.signing_key import (
    BUNDLE_NAME,
    KEY_NAME,
    load_or_create_signer,
    read_certificates,
    rotate,
)


def test_the_key_is_made_once_private_and_signs_verifiably(tmp_path, pki):
    signer = load_or_create_signer(tmp_path / "ds", pki.ca())
    assert stat.S_IMODE((tmp_path / "ds" / KEY_NAME).stat().st_mode) == 0o600
    again = load_or_create_signer(tmp_path / "ds", pki.ca())
    assert again.key_id == signer.key_id and len(signer.key_id) == 16
    signature = signer.sign(b"statement")
    assert len(signature) == 64
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    signer.certificate.public_key().verify(der, b"statement", ec.ECDSA(hashes.SHA256()))
    signer.certificate.verify_directly_issued_by(pki.ca().certificate)


def test_the_certificate_is_for_document_signing(tmp_path, pki):
    cert = load_or_create_signer(tmp_path, pki.ca()).certificate
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {OID_KP_DOCUMENT_SIGNING, OID_MS_DOCUMENT_SIGNING} <= set(eku)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"


def test_rotation_signs_with_a_new_key_and_keeps_the_old_certificate(tmp_path, pki):
    first = load_or_create_signer(tmp_path, pki.ca())
    second = rotate(tmp_path, pki.ca())
    assert second.key_id != first.key_id
    assert [c.serial_number for c in second.all_certificates()] == [
        second.certificate.serial_number,
        first.certificate.serial_number,
    ]
    assert load_or_create_signer(tmp_path, pki.ca()).key_id == second.key_id
    bundle = {c.serial_number for c in read_certificates(tmp_path / BUNDLE_NAME)}
    assert bundle == {first.certificate.serial_number, second.certificate.serial_number}
    assert b"PRIVATE" not in (tmp_path / BUNDLE_NAME).read_bytes()


def test_an_expired_certificate_is_no_longer_listed_as_current(tmp_path, pki):
    past = datetime.now(UTC) - timedelta(days=40)
    old = load_or_create_signer(tmp_path, pki.ca(), now=past, days=10)
    now = datetime.now(UTC)
    new = load_or_create_signer(tmp_path, pki.ca(), now=now)  # ends within 30 days: rotated
    assert new.key_id != old.key_id
    assert [key.serial_number for key in new.certificates(now)] == [new.certificate.serial_number]
    assert len(new.all_certificates()) == 2


def test_without_a_ca_the_folder_gets_its_own(tmp_path):
    signer = load_or_create_signer(tmp_path)
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    signer.certificate.verify_directly_issued_by(ca)
    assert stat.S_IMODE((tmp_path / "ca.key").stat().st_mode) == 0o600


def test_a_key_that_does_not_match_its_certificate_stops_the_start(tmp_path, pki):
    load_or_create_signer(tmp_path / "a", pki.ca())
    load_or_create_signer(tmp_path / "b", pki.ca())
    (tmp_path / "a" / KEY_NAME).write_bytes((tmp_path / "b" / KEY_NAME).read_bytes())
    with pytest.raises(DomainError) as caught:
        load_or_create_signer(tmp_path / "a", pki.ca())
    assert "clé de signature des documents" in str(caught.value)


def test_the_embedded_service_signs_with_a_key_of_the_demo_ca(tmp_path):
    from proclient.server.embedded import embedded_app

    app, demo = embedded_app(tmp_path)
    signer = app.state.settings.document_signer
    assert signer is not None
    signer.certificate.verify_directly_issued_by(demo.ca().certificate)
    app2, _demo = embedded_app(tmp_path)
    assert app2.state.settings.document_signer.key_id == signer.key_id
    app.state.storage.close()
    app2.state.storage.close()
