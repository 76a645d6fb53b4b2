"""Property tests: any bytes from a card give beneficiaries or a CardError, never a crash,
and whatever Latin-1 identities a card carries are read back exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from proclient.cardreader.emulator import VitaleEmulator
from proclient.cardreader.errors import CardError
from proclient.cardreader.vitale import parse_identities, parse_nirs, read_vitale
from proclient.core.domain import Beneficiary, BirthDate

from .conftest import CARD_MODES, EXPECTED_DEMO


@given(st.binary(max_size=400))
def test_parse_identities_on_arbitrary_bytes_raises_only_card_error(data: bytes) -> None:
    try:
        parse_identities(data)
    except CardError as error:
        assert error.code == "MALFORMED"


@given(st.binary(max_size=400))
def test_parse_nirs_on_arbitrary_bytes_raises_only_card_error(data: bytes) -> None:
    try:
        parse_nirs(data)
    except CardError as error:
        assert error.code == "MALFORMED"


# Printable Latin-1 (no C0/C1 controls), without the padding a reader strips at the ends.
_latin1 = st.characters(codec="latin-1", exclude_categories=("Cc",), exclude_characters="\x7f")
_name = st.text(_latin1, max_size=40).filter(lambda t: t == t.strip(" \xff"))
_beneficiary = st.builds(
    Beneficiary,
    last_name=_name.filter(bool),
    first_name=_name,
    birth_date=st.from_regex(r"\A[0-9]{8}\Z").map(BirthDate),
    nir=st.one_of(st.none(), st.from_regex(r"\A[0-9AB]{15}\Z")),
)


@settings(max_examples=60)
@given(
    beneficiaries=st.lists(_beneficiary, min_size=1, max_size=8),
    mode=st.sampled_from(sorted(CARD_MODES)),
)
def test_any_beneficiaries_written_by_the_card_read_back_equal(beneficiaries, mode) -> None:
    card = VitaleEmulator.from_beneficiaries(beneficiaries, **CARD_MODES[mode])
    assert list(read_vitale(card).beneficiaries) == beneficiaries


def _demo_files(key: str) -> tuple[bytes, bytes]:
    card = VitaleEmulator.from_demo(key)
    return card.mf.efs[0].data, card.vitale.efs[0].data


@st.composite
def _damaged_demo_card(draw):
    """A demo card's files with bytes flipped, cut or inserted: near-valid TLV, the hard case."""
    key = draw(st.sampled_from(sorted(EXPECTED_DEMO)))
    files = list(_demo_files(key))
    which = draw(st.integers(0, 1))
    data = bytearray(files[which])
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at:]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=3))
    files[which] = bytes(data)
    return key, files


@settings(max_examples=150)
@given(_damaged_demo_card(), st.sampled_from(sorted(CARD_MODES)))
def test_damaged_card_files_give_card_error_without_personal_data(damaged, mode) -> None:
    key, (identities, nirs) = damaged
    card = VitaleEmulator(identities, nirs, **CARD_MODES[mode])
    try:
        read_vitale(card)
    except CardError as error:
        for last, first, _born, nir in EXPECTED_DEMO[key]:
            for secret in (last, first, nir):
                assert secret not in error.message
