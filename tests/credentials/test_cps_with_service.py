"""The service accepts what the token signs; the demo's token; the workstation's setting."""

from __future__ import annotations

import pytest

from proclient.core.domain import DomainError
from proclient.core.settings import Paths, load_settings
from proclient.credentials.softhsm import DEMO_TOKEN_LABEL, ensure_demo_token, token_certificate
from proclient.credentials.sources import Pkcs11CredentialSource
from proclient.credentials.sources import SoftwareCredentialSource as CredentialSource
from proclient.wiring import configured_credentials
from tests.credentials.conftest import cps_token


async def test_the_service_opens_a_session_on_a_signature_made_by_the_token(softhsm, tmp_path):
    """Through the real server app (embedded: in-process ASGI, the same code as `serve`)."""
    from proclient.embedded_service import embedded_client

    client, pki = embedded_client(tmp_path / "service")
    user = pki.default
    store = ensure_demo_token(
        tmp_path / "softhsm", user.key_path, user.cert_path, user.pin, module_path=softhsm
    )
    credential = cps_token(store).unlock(bytearray(b"1234"))
    try:
        professional = await client.login(credential)
        assert professional.id_nat == user.professional.id_nat
        assert client.connected
    finally:
        credential.close()
        await client.aclose()


async def test_the_service_refuses_a_card_its_ca_did_not_issue(cps_store, tmp_path):
    from proclient.embedded_service import embedded_client

    client, _pki = embedded_client(tmp_path / "other-service")  # another demo CA
    credential = cps_token(cps_store).unlock(bytearray(b"1234"))
    try:
        with pytest.raises(DomainError) as caught:
            await client.login(credential)
        assert caught.value.code.startswith("AUTH")
        assert not client.connected
    finally:
        credential.close()
        await client.aclose()


def test_the_demo_token_is_reused_then_replaced_when_the_certificate_changes(
    softhsm, pki, tmp_path
):
    pharmacist, nurse = pki.professionals[0], pki.professionals[1]
    directory = tmp_path / "softhsm"
    store = ensure_demo_token(
        directory, pharmacist.key_path, pharmacist.cert_path, "1234", module_path=softhsm
    )
    first = token_certificate(store, DEMO_TOKEN_LABEL)
    marker = store.tokens_dir / "kept"
    marker.write_text("")
    ensure_demo_token(
        directory, pharmacist.key_path, pharmacist.cert_path, "1234", module_path=softhsm
    )
    assert marker.exists()  # reused, not provisioned again
    ensure_demo_token(directory, nurse.key_path, nurse.cert_path, "1234", module_path=softhsm)
    assert not marker.exists()
    assert token_certificate(store, DEMO_TOKEN_LABEL) not in (None, first)
    credential = cps_token(store).unlock(bytearray(b"1234"))
    credential.close()
    assert credential.professional.profession_code == "60"


def test_the_workstation_uses_the_pkcs11_module_of_its_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path))
    monkeypatch.delenv("PROCLIENT_PKCS11_MODULE", raising=False)
    paths = Paths.resolve()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(
        '[credential]\npkcs11_module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"\n'
        'token_label = "CPS de Claire"\n[session]\nidle_lock_minutes = 3\n',
        encoding="utf-8",
    )
    settings = load_settings(paths)
    assert settings.session.idle_lock_minutes == 3
    source = configured_credentials(settings)
    assert isinstance(source, Pkcs11CredentialSource)
    assert source.token.module_path == "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
    assert source.token.token_label == "CPS de Claire"


def test_a_missing_module_is_one_sentence_naming_the_setting(tmp_path):
    source = Pkcs11CredentialSource(str(tmp_path / "absent.so"), "carte CPS")
    with pytest.raises(DomainError) as caught:
        source.pin_status()
    assert caught.value.code == "CPS_MODULE"
    assert "credential.pkcs11_module" in caught.value.message


def test_without_any_credential_setting_the_fix_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path))
    monkeypatch.delenv("PROCLIENT_PKCS11_MODULE", raising=False)
    with pytest.raises(DomainError) as caught:
        configured_credentials(load_settings(Paths.resolve()))
    assert "credential.pkcs11_module" in caught.value.message


@pytest.mark.parametrize("value", ['"cinq"', "-1", "true"])
def test_a_bad_idle_time_is_refused_with_the_setting_named(tmp_path, monkeypatch, value):
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path))
    paths = Paths.resolve()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(f"[session]\nidle_lock_minutes = {value}\n", encoding="utf-8")
    with pytest.raises(DomainError) as caught:
        load_settings(paths)
    assert "session.idle_lock_minutes" in caught.value.message


def test_software_credential_source_wipes_the_code_too(pki):
    user = pki.default
    source = CredentialSource(user.key_path, user.cert_path, "logiciel")
    pin = bytearray(b"1234")
    assert source.unlock(pin).professional == user.professional
    assert pin == bytes(4)
    with pytest.raises(DomainError):
        source.unlock(bytearray(b"0000"))


def test_no_demo_cps_in_its_reader_means_no_credential(pki):
    user = pki.default
    source = CredentialSource(user.key_path, user.cert_path, "logiciel", present=lambda: False)
    with pytest.raises(DomainError) as caught:
        source.unlock(bytearray(b"1234"))
    assert caught.value.code == "CPS_ABSENT"
