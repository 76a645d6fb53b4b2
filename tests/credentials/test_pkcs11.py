"""The CPS credential on a real PKCS#11 module (SoftHSM2): identity, code porteur, signature."""

from __future__ import annotations

import threading

import pytest
from cryptography import x509

from proclient.core.domain import DomainError
from proclient.credentials.pin import PinState
from proclient.server.pki import verify_signature
from tests.credentials.conftest import (
    FINAL_TRY,
    LOCKED,
    PIN_LOCKED_RV,
    card_states,
    cps_token,
)


def unlock(token, code: str = "1234"):
    return token.unlock(bytearray(code.encode()))


def test_right_code_names_the_pharmacist_from_the_card_certificate(cps_store, pki):
    credential = unlock(cps_token(cps_store))
    try:
        assert credential.professional == pki.default.professional
        assert credential.professional.profession_code == "21"
        assert credential.certificate_pem == pki.default.cert_path.read_bytes()
    finally:
        credential.close()


def test_the_challenge_is_signed_on_the_card_and_verifies(cps_store):
    credential = unlock(cps_token(cps_store))
    try:
        signature = credential.sign(b"challenge-nonce")
        cert = x509.load_pem_x509_certificate(credential.certificate_pem)
        assert verify_signature(cert, signature, b"challenge-nonce")
        assert not verify_signature(cert, signature, b"another nonce")
    finally:
        credential.close()


def test_the_authentication_key_cannot_leave_the_token(cps_store):
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    module = cps_store.module()
    token = module.lib.get_token(token_label="CPS DEMO")
    with module.lock, token.open(user_pin="1234") as session:
        (key,) = session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
        assert key[Attribute.LABEL] == "CPS_PRIV_AUT"
        assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
        with pytest.raises(pkcs11.PKCS11Error):
            key[Attribute.PRIVATE_EXPONENT]


def test_rsa_pkcs_with_a_digest_info_when_the_module_lacks_sha256_rsa(cps_store):
    import pkcs11

    class NoSha256Rsa(card_states()):
        def mechanisms(self):
            return super().mechanisms() - {pkcs11.Mechanism.SHA256_RSA_PKCS}

    credential = unlock(cps_token(cps_store, boundary=NoSha256Rsa))
    try:
        assert credential._mechanism == pkcs11.Mechanism.RSA_PKCS
        cert = x509.load_pem_x509_certificate(credential.certificate_pem)
        assert verify_signature(cert, credential.sign(b"nonce"), b"nonce")
    finally:
        credential.close()


def test_wrong_code_is_refused_once_and_says_two_tries_are_left(cps_store):
    states = card_states()
    token = cps_token(cps_store, boundary=states)
    with pytest.raises(DomainError) as caught:
        unlock(token, "9999")
    assert caught.value.code == "PIN_WRONG"
    # SoftHSM2 raises CKF_USER_PIN_COUNT_LOW: one wrong code on a card of 3 tries.
    assert "il reste 2 essais" in caught.value.message
    assert len(states.logins) == 1  # never a second attempt by itself
    status = token.pin_status()
    assert status.state is PinState.COUNT_LOW and status.tries_left == 2
    assert "il reste 2 essais" in status.warning
    credential = unlock(token)  # the right code still works, and clears the warning
    credential.close()
    assert token.pin_status().state is PinState.OK


def test_the_code_buffer_is_wiped_after_success_and_failure(cps_store):
    token = cps_token(cps_store)
    good, bad = bytearray(b"1234"), bytearray(b"0000")
    token.unlock(good).close()
    with pytest.raises(DomainError):
        token.unlock(bad)
    assert good == bytes(4) and bad == bytes(4)


def test_last_try_is_announced_before_and_after_a_wrong_code(cps_store):
    token = cps_token(cps_store, boundary=card_states(FINAL_TRY))
    status = token.pin_status()
    assert status.state is PinState.FINAL_TRY and status.tries_left == 1
    assert "dernier essai" in status.warning
    with pytest.raises(DomainError) as caught:
        unlock(token, "9999")
    assert "dernier essai" in caught.value.message


def test_a_blocked_card_is_not_tried_and_says_how_to_unblock_it(cps_store):
    states = card_states(LOCKED)
    token = cps_token(cps_store, boundary=states)
    assert token.pin_status().locked
    with pytest.raises(DomainError) as caught:
        unlock(token)
    assert caught.value.code == "PIN_LOCKED"
    assert "PUK" in caught.value.message and "CPS en ligne" in caught.value.message
    assert "aucun essai" in caught.value.message
    assert "F7" not in caught.value.message  # a real card: no demo way out
    assert states.logins == []


def test_the_card_blocking_on_this_try_says_so(cps_store):
    states = card_states(login_result=PIN_LOCKED_RV)
    with pytest.raises(DomainError) as caught:
        unlock(cps_token(cps_store, boundary=states), "9999")
    assert caught.value.code == "PIN_LOCKED"
    assert states.logins == [PIN_LOCKED_RV]


def test_no_token_asks_to_insert_the_cps(empty_store):
    token = cps_token(empty_store, token_label=None)
    with pytest.raises(DomainError) as caught:
        token.pin_status()
    assert caught.value.code == "CPS_ABSENT"
    with pytest.raises(DomainError) as caught:
        unlock(token)
    assert caught.value.code == "CPS_ABSENT"


def test_first_token_with_a_cps_certificate_is_found_without_a_label(cps_store):
    credential = unlock(cps_token(cps_store, token_label=None))
    credential.close()
    assert credential.professional.id_nat == "899700024450"


def test_a_closed_credential_no_longer_signs(cps_store):
    credential = unlock(cps_token(cps_store))
    credential.close()
    with pytest.raises(DomainError) as caught:
        credential.sign(b"nonce")
    assert caught.value.code == "CPS_SESSION_CLOSED"


def test_a_second_login_checks_the_code_again(cps_store):
    """A card left logged in by an earlier session must not let a wrong code through."""
    token = cps_token(cps_store)
    first = unlock(token)
    try:
        with pytest.raises(DomainError) as caught:
            unlock(token, "9999")
        assert caught.value.code == "PIN_WRONG"
    finally:
        first.close()


def test_signatures_from_several_threads_all_verify(cps_store):
    credential = unlock(cps_token(cps_store))
    cert = x509.load_pem_x509_certificate(credential.certificate_pem)
    results: list[bool] = []

    def sign(n: int) -> None:
        data = f"nonce-{n}".encode()
        results.append(verify_signature(cert, credential.sign(data), data))

    threads = [threading.Thread(target=sign, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    credential.close()
    assert results == [True] * 8


def test_reading_the_pin_state_does_not_log_an_unlocked_card_out(cps_store):
    token = cps_token(cps_store)
    credential = unlock(token)
    try:
        assert token.pin_status().state is PinState.OK
        cert = x509.load_pem_x509_certificate(credential.certificate_pem)
        assert verify_signature(cert, credential.sign(b"nonce"), b"nonce")
    finally:
        credential.close()


@pytest.mark.parametrize("code", ["123", "12", "1"])
def test_a_too_short_code_is_refused_before_the_card_and_spends_no_try(cps_store, code):
    states = card_states()
    token = cps_token(cps_store, boundary=states)
    with pytest.raises(DomainError) as caught:
        unlock(token, code)
    assert caught.value.code == "PIN_LENGTH"
    assert "de 4 à" in caught.value.message and "aucun essai" in caught.value.message
    assert states.logins == []  # C_Login never called
    assert token.pin_status().state is PinState.OK  # the token's failure counter did not move
    unlock(token).close()


def test_the_lengths_come_from_the_token_info_when_it_gives_them(cps_store):
    class SixToEight(card_states()):
        def pin_lengths(self):
            return 6, 8

    token = cps_token(cps_store, boundary=SixToEight)
    with pytest.raises(DomainError) as caught:
        unlock(token, "1234")
    assert caught.value.code == "PIN_LENGTH" and "de 6 à 8 chiffres" in caught.value.message
    assert SixToEight.logins == []


def test_softhsm_token_info_gives_its_pin_lengths(cps_store):
    token = cps_token(cps_store)
    boundary, _certificate, _id = token._find()
    try:
        assert boundary.pin_lengths() == (4, 255)  # SoftHSM2's ulMinPinLen, ulMaxPinLen
    finally:
        boundary.close()
