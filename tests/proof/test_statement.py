"""The signed statement's 2D code (core/proof/statement.py): a round trip, and each way a code
can fail to prove anything, each with its own outcome, sentence and exit code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from proclient.core.proof.statement import PREFIX, encode, verify_code
from proclient.server.pki import create_ca
from proclient.server.signing_key import load_or_create_signer, rotate
from tests.proof.statements import AT, NIR, STATEMENT, statement


@pytest.fixture(scope="module")
def ca():
    return create_ca("test document CA")


@pytest.fixture
def signer(tmp_path, ca):
    """A key whose certificate starts the day before :data:`AT`: the example statement's
    fixed date stays inside it whatever the day the suite runs (made "now", it left the
    certificate's validity behind as soon as the clock passed AT)."""
    return load_or_create_signer(tmp_path / "ds", ca, now=AT - timedelta(days=1))


def test_a_code_round_trips_and_says_what_the_accuse_asserts(signer):
    code = encode(STATEMENT, signer)
    assert code.startswith(PREFIX)
    verdict = verify_code(code, signer.certificates(), AT + timedelta(days=1))
    assert (verdict.outcome, verdict.exit_code) == ("valid", 0)
    assert verdict.details["reference"] == "DMP-4F7Q2K9X"
    assert verdict.details["ins_masked"] == "2**********2538"
    assert verdict.details["initials"] == "GL"
    assert verdict.details["key_id"] == signer.key_id
    assert verdict.details["at"] == "2026-12-07T09:30:12+00:00"
    assert "DMP-4F7Q2K9X" in verdict.sentence and "bris de glace refusé" in verdict.sentence


def test_the_code_is_small_enough_for_an_80_mm_receipt(signer):
    assert len(encode(STATEMENT, signer)) < 300


def test_the_code_holds_no_full_nir(signer):
    import zlib

    import base45

    code = encode(STATEMENT, signer)
    raw = zlib.decompress(base45.b45decode(code[len(PREFIX) :]))
    assert NIR.encode() not in raw and b"LE GOFF" not in raw and b"rard" not in raw


def _changed(code: str, index: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    other = alphabet[(alphabet.index(code[index]) + 1) % len(alphabet)]
    return code[:index] + other + code[index + 1 :]


def test_one_character_changed_is_altered_or_unreadable_never_valid(signer):
    code = encode(STATEMENT, signer)
    outcomes = {
        verify_code(_changed(code, i), signer.certificates(), AT).outcome
        for i in range(len(PREFIX), len(code))
    }
    assert "valid" not in outcomes
    assert outcomes <= {"altered", "unreadable", "unknown_key"}


def test_a_changed_field_signed_again_by_nobody_is_altered(signer):
    """The statement's payload changed and the code rebuilt around the old signature."""
    import zlib

    import base45
    import cbor2

    code = encode(STATEMENT, signer)
    sign1 = cbor2.loads(zlib.decompress(base45.b45decode(code[len(PREFIX) :])))
    protected, unprotected, payload, signature = sign1.value
    fields = cbor2.loads(payload)
    fields[13] = True  # bris de glace: refused → authorised
    forged = cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(fields), signature])
    text = PREFIX + base45.b45encode(zlib.compress(cbor2.dumps(forged))).decode()
    verdict = verify_code(text, signer.certificates(), AT)
    assert (verdict.outcome, verdict.exit_code) == ("altered", 20)
    assert "modifié" in verdict.sentence


def test_another_key_is_unknown(tmp_path, signer, ca):
    other = load_or_create_signer(tmp_path / "other", create_ca("another CA"))
    verdict = verify_code(encode(STATEMENT, other), signer.certificates(), AT)
    assert (verdict.outcome, verdict.exit_code) == ("unknown_key", 21)
    assert "clé inconnue" in verdict.sentence


def test_a_rotated_out_key_verifies_until_its_certificate_expires(tmp_path, ca):
    start = datetime.now(UTC) - timedelta(days=5)
    old = load_or_create_signer(tmp_path, ca, now=start, days=10)
    code = encode(statement(at=start + timedelta(days=1)), old)
    new = rotate(tmp_path, ca)
    assert new.key_id != old.key_id
    still = verify_code(code, new.all_certificates(), datetime.now(UTC))
    assert still.outcome == "valid"
    later = verify_code(code, new.all_certificates(), start + timedelta(days=11))
    assert (later.outcome, later.exit_code) == ("revoked", 21)
    assert "n'est plus valable" in later.sentence
    # a code of the new key is not affected
    fresh = statement(at=datetime.now(UTC).replace(microsecond=0))
    assert verify_code(encode(fresh, new), new.all_certificates()).outcome == "valid"


def test_a_code_dated_before_its_certificate_is_revoked(signer):
    early = statement(at=datetime(2001, 1, 1, tzinfo=UTC))
    verdict = verify_code(encode(early, signer), signer.certificates(), AT)
    assert verdict.outcome == "revoked"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "DMP1:",
        "DMP1",
        "HC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEMWK4MI6UOS03CR",
        "x" * 10_000,
        PREFIX + "A" * 10_000,
        PREFIX + "AB\x00CD\x1b[2J",
        "\x07\x08\x7f",
        PREFIX + "ÉÀ€",
    ],
    ids=[
        "empty",
        "prefix",
        "no colon",
        "another code",
        "10000",
        "10000 after prefix",
        "control",
        "control only",
        "non ascii",
    ],
)
def test_bad_input_is_unreadable_in_one_sentence(text, signer):
    verdict = verify_code(text, signer.certificates(), AT)
    assert (verdict.outcome, verdict.exit_code) == ("unreadable", 22)
    assert verdict.sentence.startswith("Code illisible")


def test_a_code_cut_short_is_unreadable(signer):
    code = encode(STATEMENT, signer)
    for length in (len(code) - 1, len(code) - 7, len(code) // 2, len(PREFIX) + 3):
        assert verify_code(code[:length], signer.certificates(), AT).outcome == "unreadable"


def test_a_password_reissue_asserts_no_consent(signer):
    reissue = statement(  # the consent fields left out
        kind="password_reissue",
        initials=None,
        birth_year=None,
        consent_by=None,
        samu_access=None,
        break_glass_access=None,
        online_access=None,
    )
    verdict = verify_code(encode(reissue, signer), signer.certificates(), AT)
    assert verdict.outcome == "valid"
    assert "consent_by" not in verdict.details and "Consentement" not in verdict.sentence
