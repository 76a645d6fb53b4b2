"""Card errors: a stable code and one French sentence that names what to do."""

from __future__ import annotations

import pytest

from proclient.cardreader.errors import CODES, CardError, default_message
from proclient.core.domain import DomainError


@pytest.mark.parametrize("code", CODES)
def test_each_code_has_its_own_french_sentence_naming_the_fix(code: str) -> None:
    message = CardError(code, sw=0x6A82).message
    assert message != default_message("SOMETHING_ELSE")
    situation, _sep, fix = message.partition(" : ")
    assert situation and fix.endswith(".")
    verbs = ("insérez", "réinsérez", "branchez", "saisissez", "demandez", "relancez", "retirez")
    assert any(verb in fix for verb in verbs)


def test_card_error_is_a_domain_error_the_screens_already_show() -> None:
    error = CardError("CARD_REMOVED")
    assert isinstance(error, DomainError)
    assert error.message == "La carte a été retirée pendant la lecture : réinsérez-la."
    assert repr(error) == "CardError(CARD_REMOVED)"


def test_status_word_is_shown_in_hex() -> None:
    error = CardError("STATUS_WORD", sw=0x6A82)
    assert "6A82" in error.message and error.sw == 0x6A82
