"""The demo CPS behaves like a card: three wrong codes block it, the right one resets the
count, and only the demo may give its tries back without a PUK."""

from __future__ import annotations

import stat

import pytest

from proclient.core.domain import DomainError
from proclient.credentials.demo_tries import DEMO_TRIES_FILE, DemoPinCounter
from proclient.credentials.pin import PinState
from proclient.credentials.sources import Pkcs11CredentialSource, SoftwareCredentialSource
from tests.credentials.conftest import card_states


@pytest.fixture(params=["software", "softhsm"])
def demo_card(request, pki, tmp_path):
    """The demo CPS as the demo wires it: the software key, or the SoftHSM2 token."""
    tries = DemoPinCounter(tmp_path / "demo" / DEMO_TRIES_FILE)
    user = pki.default
    if request.param == "software":
        return SoftwareCredentialSource(user.key_path, user.cert_path, "démo", tries=tries)
    store = request.getfixturevalue("cps_store")
    return Pkcs11CredentialSource(
        store.module_path,
        "démo",
        token_label="CPS DEMO",
        environment=store.environment,
        tries=tries,
        boundary=card_states(),
    )


def opened(source, code: bytearray | None = None) -> None:
    """The right code unlocks; the card is logged out again at once."""
    credential = source.unlock(code if code is not None else bytearray(b"1234"))
    if hasattr(credential, "close"):
        credential.close()


def refusal(source, code: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        source.unlock(bytearray(code.encode()))
    return caught.value


def test_three_wrong_codes_block_the_demo_card_with_the_count_each_time(demo_card):
    assert demo_card.pin_status().state is PinState.OK and demo_card.pin_status().warning == ""
    first = refusal(demo_card, "9999")
    assert first.code == "PIN_WRONG" and "il reste 2 essais" in first.message
    status = demo_card.pin_status()
    assert status.tries_left == 2 and "il reste 2 essais" in status.warning
    second = refusal(demo_card, "9999")
    assert "dernier essai" in second.message
    assert demo_card.pin_status().state is PinState.FINAL_TRY
    third = refusal(demo_card, "9999")
    assert third.code == "PIN_LOCKED" and "Carte CPS bloquée" in third.message
    assert "F7" in third.message and "PUK" in third.message
    status = demo_card.pin_status()
    assert status.locked and status.demo and status.tries_left == 0


def test_a_blocked_demo_card_refuses_even_the_right_code_until_unblocked(demo_card):
    for _ in range(3):
        refusal(demo_card, "9999")
    assert refusal(demo_card, "1234").code == "PIN_LOCKED"
    if isinstance(demo_card, Pkcs11CredentialSource):
        assert len(demo_card.token._boundary.logins) == 3  # the blocked card was not tried
    status = demo_card.unblock_demo()
    assert status.state is PinState.OK and not status.locked
    opened(demo_card)


def test_the_right_code_gives_all_tries_back(demo_card):
    refusal(demo_card, "9999")
    refusal(demo_card, "9999")
    opened(demo_card)
    assert demo_card.pin_status().state is PinState.OK
    assert refusal(demo_card, "9999").message.count("il reste 2 essais") == 1


def test_the_count_is_kept_in_a_private_file_across_restarts(demo_card, pki):
    refusal(demo_card, "9999")
    path = demo_card.tries.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    user = pki.default
    again = SoftwareCredentialSource(
        user.key_path, user.cert_path, "démo", tries=DemoPinCounter(path)
    )
    assert again.pin_status().tries_left == 2


def test_a_code_of_the_wrong_length_spends_no_demo_try(demo_card):
    error = refusal(demo_card, "123")
    assert error.code == "PIN_LENGTH" and "aucun essai" in error.message
    assert demo_card.pin_status().state is PinState.OK
    assert not demo_card.tries.path.exists()


def test_the_code_is_wiped_whatever_the_outcome(demo_card):
    wrong, short, right = bytearray(b"9999"), bytearray(b"12"), bytearray(b"1234")
    for code in (wrong, short):
        with pytest.raises(DomainError):
            demo_card.unlock(code)
    opened(demo_card, right)
    assert wrong == bytes(4) and short == bytes(2) and right == bytes(4)


def test_a_real_card_cannot_be_unblocked_by_the_demo_way(pki):
    user = pki.default
    source = SoftwareCredentialSource(user.key_path, user.cert_path, "logiciel")
    with pytest.raises(DomainError) as caught:
        source.unblock_demo()
    assert caught.value.code == "PIN_LOCKED" and "F7" not in caught.value.message
