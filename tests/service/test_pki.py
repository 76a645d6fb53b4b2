"""The demo PKI and the software credential."""

from __future__ import annotations

import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from proclient.core.cps_profile import OID_PROFESSION_CODE, professional_from_certificate
from proclient.core.domain import DomainError
from proclient.credentials.software import SoftwareCredential, unlock_demo
from proclient.server.demo import DEMO_PIN, ensure_demo_pki
from proclient.server.operations import hash_password, new_password, verify_password


def test_demo_certificates_are_laid_out_like_cps(pki):
    by_code = {p.professional.profession_code: p for p in pki.professionals}
    assert set(by_code) == {"10", "21", "60"}
    assert pki.default.professional.profession_code == "21"
    for demo in pki.professionals:
        cert = x509.load_pem_x509_certificate(demo.cert_path.read_bytes())
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == (
            demo.professional.id_nat
        )
        extension = cert.extensions.get_extension_for_oid(OID_PROFESSION_CODE)
        assert not extension.critical
        code = demo.professional.profession_code.encode()
        assert extension.value.value == bytes([0x0C, len(code)]) + code  # DER UTF8String
        assert isinstance(cert.public_key(), rsa.RSAPublicKey)
        assert cert.public_key().key_size == 2048
        assert professional_from_certificate(cert) == demo.professional


def test_demo_pki_is_created_once_and_kept_private(pki):
    files = sorted(p for p in pki.directory.iterdir() if p.suffix in (".pem", ".key"))
    before = {p: p.read_bytes() for p in files}
    again = ensure_demo_pki(pki.directory)
    assert {p: p.read_bytes() for p in files} == before
    assert again.professionals == pki.professionals
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in pki.default.key_path.read_bytes()


def test_missing_key_is_issued_again(tmp_path):
    first = ensure_demo_pki(tmp_path)
    first.default.key_path.unlink()
    second = ensure_demo_pki(tmp_path)
    assert second.ca_pem == first.ca_pem
    assert unlock_demo(second.default).professional == first.default.professional


def test_wrong_pin_is_refused_without_revealing_it(pki):
    with pytest.raises(DomainError) as refused:
        SoftwareCredential.unlock(pki.default.key_path, pki.default.cert_path, "9876")
    assert refused.value.code == "PIN_WRONG"
    assert "9876" not in str(refused.value) and DEMO_PIN not in str(refused.value)
    assert refused.value.__cause__ is None


def test_key_of_another_professional_is_refused(pki):
    nurse, doctor = pki.professionals[1], pki.professionals[2]
    with pytest.raises(DomainError) as refused:
        SoftwareCredential.unlock(nurse.key_path, doctor.cert_path, DEMO_PIN)
    assert refused.value.code == "CREDENTIAL_INVALID"


def test_initial_password_is_kept_only_as_a_scrypt_hash():
    password = new_password()
    stored = hash_password(password)
    assert stored.startswith("scrypt$") and password not in stored
    assert verify_password(password, stored)
    assert not verify_password(password + "x", stored)
