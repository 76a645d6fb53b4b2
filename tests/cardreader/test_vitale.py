"""Reading a Carte Vitale 2 from APDU answers: demo cards, card types, faults."""

from __future__ import annotations

import pytest

from proclient.cardreader import tlv
from proclient.cardreader.apdu import T0Transport
from proclient.cardreader.emulator import VITALE1_ATR, VitaleEmulator
from proclient.cardreader.errors import CardError
from proclient.cardreader.virtual import PATIENT_READER, VirtualReaderBackend
from proclient.cardreader.vitale import (
    card_type_from_atr,
    parse_identities,
    parse_nirs,
    read_vitale,
)
from proclient.core.domain import CardType

from .conftest import EXPECTED_DEMO

CPS3_ATR = bytes.fromhex("3BAC00402A001225006480000310009000")
CPS4_ATR = bytes.fromhex("3B9B188001001225006480040100009044")


def as_rows(card) -> list[tuple[str, str, str, str | None]]:
    return [(b.last_name, b.first_name, b.birth_date.raw, b.nir) for b in card.beneficiaries]


def test_demo_card_read_through_the_virtual_reader_gives_exact_identities(demo_key) -> None:
    readers = VirtualReaderBackend()
    readers.insert(PATIENT_READER, VitaleEmulator.from_demo(demo_key))
    connection = readers.connect(PATIENT_READER)
    card = read_vitale(connection)
    assert as_rows(card) == EXPECTED_DEMO[demo_key]
    assert card.card_type is CardType.VITALE2
    assert card.atr == "3B 75 13 00 00 44 09 EA 90 00"


def test_demo_card_reads_the_same_in_every_t0_mode(demo_key, card_mode) -> None:
    card = read_vitale(VitaleEmulator.from_demo(demo_key, **card_mode))
    assert as_rows(card) == EXPECTED_DEMO[demo_key]


def test_lunar_birth_date_is_kept_as_read() -> None:
    (karim,) = read_vitale(VitaleEmulator.from_demo("bensaid")).beneficiaries
    assert karim.birth_date.raw == "19550000"
    assert karim.birth_date.is_lunar and karim.birth_date.display == "00/00/1955"


@pytest.mark.parametrize(
    ("mode", "apdus"),
    [
        ({}, 4),
        ({"t0_mode": True}, 6),
        ({"wrong_le": True}, 6),
        ({"t0_mode": True, "wrong_le": True}, 8),
    ],
)
def test_a_read_takes_the_fewest_apdus(demo_key, mode, apdus) -> None:
    transport = T0Transport(card := VitaleEmulator.from_demo(demo_key, **mode))
    read_vitale(card, transport=transport)
    assert transport.apdu_count == card.apdu_count == apdus


def test_second_read_on_the_same_connection_selects_the_mf_again() -> None:
    card = VitaleEmulator.from_demo("durand")
    assert read_vitale(card) == read_vitale(card)


@pytest.mark.parametrize("x", "3456789BC")
def test_vitale2_atr_family(x: str) -> None:
    assert card_type_from_atr(bytes.fromhex(f"3B751300004{x}09EA9000")) is CardType.VITALE2


@pytest.mark.parametrize(
    ("atr", "expected"),
    [
        ("3B751300004A09EA9000", CardType.UNKNOWN),
        ("3B751300005409EA9000", CardType.UNKNOWN),
        ("3B751300004409EA90", CardType.UNKNOWN),
        (VITALE1_ATR.hex(), CardType.VITALE1),
        ("3F6525000000", CardType.VITALE1),
        (CPS3_ATR.hex(), CardType.CPS),
        (CPS4_ATR.hex(), CardType.CPS),
        ("3B8F8001804F0CA000000306030001000000006A", CardType.UNKNOWN),
        ("", CardType.UNKNOWN),
    ],
)
def test_card_type_from_atr(atr: str, expected: CardType) -> None:
    assert card_type_from_atr(bytes.fromhex(atr)) is expected


@pytest.mark.parametrize(
    ("atr", "code", "words"),
    [
        (VITALE1_ATR, "VITALE1_UNREADABLE", "première génération"),
        (CPS3_ATR, "NOT_VITALE", "CPS"),
        (CPS4_ATR, "NOT_VITALE", "CPS"),
        (b"", "CARD_MUTE", "ne répond pas"),
    ],
)
def test_other_cards_are_refused_by_name_without_any_apdu(atr, code, words) -> None:
    card = VitaleEmulator.from_demo("legoff", atr=atr)
    with pytest.raises(CardError) as caught:
        read_vitale(card)
    assert caught.value.code == code
    assert words in caught.value.message
    assert any(fix in caught.value.message for fix in ("insérez", "réinsérez", "saisissez"))
    assert card.apdu_count == 0


UNLISTED_ATR = bytes.fromhex("3B8F8001804F0CA0000003")


def test_card_with_an_unlisted_atr_is_known_by_its_answer() -> None:
    """A Vitale 2 whose ATR is not in the public record: the VITALE application answers."""
    card = VitaleEmulator.from_demo("durand", atr=UNLISTED_ATR)
    read = read_vitale(card)
    assert [b.first_name for b in read.beneficiaries] == ["Sophie", "Léa", "Hugo"]


def test_unknown_card_without_the_vitale_application_is_refused() -> None:
    from proclient.cardreader.cps_emulator import CpsEmulator

    class UnknownCard:
        """Some other card: an ATR nobody lists, no VITALE application (6A82)."""

        atr = UNLISTED_ATR
        inner = CpsEmulator()

        def transmit(self, apdu: bytes) -> tuple[bytes, int]:
            answer = self.inner.process(apdu)
            return answer[:-2], int.from_bytes(answer[-2:], "big")

        def disconnect(self) -> None:
            pass

    with pytest.raises(CardError) as caught:
        read_vitale(UnknownCard())
    assert caught.value.code == "NOT_VITALE"
    assert "n'est pas une carte Vitale" in caught.value.message


def test_card_pulled_at_each_apdu_gives_card_removed(demo_key, card_mode) -> None:
    total = VitaleEmulator.from_demo(demo_key, **card_mode)
    read_vitale(total)
    for index in range(1, total.apdu_count + 1):
        card = VitaleEmulator.from_demo(demo_key, pull_at=index, **card_mode)
        with pytest.raises(CardError) as caught:
            read_vitale(card)
        assert caught.value.code == "CARD_REMOVED", index


class RefusingCard:
    """Wraps a card and answers the ``at``-th APDU with ``sw`` instead."""

    def __init__(self, card: VitaleEmulator, at: int, sw: int) -> None:
        self.card, self.at, self.sw, self.count = card, at, sw, 0
        self.atr = card.atr

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.count += 1
        data, sw = self.card.transmit(apdu)
        return (b"", self.sw) if self.count == self.at else (data, sw)

    def disconnect(self) -> None:
        pass


@pytest.mark.parametrize("sw", [0x6A82, 0x6982, 0x6F00, 0x6281])
def test_status_word_other_than_9000_at_each_apdu_is_a_card_error(card_mode, sw) -> None:
    for at in range(1, VitaleEmulator.from_demo("durand", **card_mode).apdu_count + 9):
        card = RefusingCard(VitaleEmulator.from_demo("durand", **card_mode), at, sw)
        try:
            read_vitale(card)
        except CardError as error:
            assert error.code in ("STATUS_WORD", "MALFORMED")
        else:
            assert at > card.count, "a refused APDU went unnoticed"


# --- the two files, parsed alone ---------------------------------------------------------------


def template(*fields: tuple[int, bytes]) -> bytes:
    return tlv.encode(0x65, tlv.encode_all(fields))


def test_card_template_66_and_unknown_tags_are_skipped() -> None:
    data = (
        tlv.encode(0x66, tlv.encode(0x80, b"20190102"))
        + tlv.encode(0x5F20, b"?")
        + template(
            (0x80, b"MARTIN"), (0x9E, b"??"), (0x9F01, b""), (0x81, b"Jo\xebl"), (0x82, b"20010203")
        )
    )
    (person,) = parse_identities(data)
    assert person.last_name == "MARTIN" and person.first_name == "Joël"
    assert person.birth_date.raw == "20010203"


def test_padding_and_spaces_are_stripped() -> None:
    person_fields = (0x80, b"  MARTIN   "), (0x81, b"Zo\xe9\x00\x00"), (0x82, b"20010203")
    data = template(*person_fields) + bytes(30)
    (person,) = parse_identities(data)
    assert (person.last_name, person.first_name) == ("MARTIN", "Zoé")


def test_beneficiary_without_own_nir_has_none() -> None:
    data = template((0x93, b"152033523804587"), (0x90, b"FRA")) + template((0x90, b"FRA"))
    data += template((0x93, b"               "))
    assert parse_nirs(data) == ["152033523804587", None, None]


@pytest.mark.parametrize(
    "data",
    [
        template((0x81, b"Jo"), (0x82, b"20010203")),  # no last name
        template((0x80, b"MARTIN"), (0x81, b"Jo")),  # no birth date
        template((0x80, b"   "), (0x82, b"20010203")),  # blank last name
        template((0x80, b"MARTIN"), (0x82, b"2001-2-3")),  # not AAAAMMJJ
        template((0x80, b"MARTIN"), (0x82, b"200102031")),
        template((0x80, b"MAR\x1b[2JTIN"), (0x82, b"20010203")),  # terminal escape in a name
        template((0x80, b"MARTIN"), (0x82, b"20010203"))[:-3],  # truncated
        bytes.fromhex("650580034D41"),  # inner length overruns the template
        bytes.fromhex("6581"),
    ],
)
def test_malformed_identity_file_is_a_card_error(data: bytes) -> None:
    with pytest.raises(CardError) as caught:
        parse_identities(data)
    assert caught.value.code == "MALFORMED"


@pytest.mark.parametrize("nir", [b"15203352380458", b"1520335238045870", b"15203352380458\xe9"])
def test_nir_of_wrong_shape_is_malformed(nir: bytes) -> None:
    with pytest.raises(CardError) as caught:
        parse_nirs(template((0x93, nir)))
    assert caught.value.code == "MALFORMED"


def test_more_nirs_than_identities_is_refused_rather_than_paired() -> None:
    legoff = VitaleEmulator.from_demo("legoff")
    durand = VitaleEmulator.from_demo("durand")
    card = VitaleEmulator(legoff.mf.efs[0].data, durand.vitale.efs[0].data)
    with pytest.raises(CardError) as caught:
        read_vitale(card)
    assert caught.value.code == "MALFORMED"
    assert "285077505612370" not in caught.value.message


def test_card_without_beneficiary_says_so() -> None:
    with pytest.raises(CardError) as caught:
        read_vitale(VitaleEmulator.from_beneficiaries([]))
    assert caught.value.code == "NO_BENEFICIARY"
