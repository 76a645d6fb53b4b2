"""The emulated Carte Vitale 2 answers like a card: files, selections and status words."""

from __future__ import annotations

import pytest

from proclient.cardreader import tlv
from proclient.cardreader.demo_cards import DEMO_CARDS, demo_card
from proclient.cardreader.emulator import VitaleEmulator
from proclient.cardreader.errors import CardError
from proclient.cardreader.vitale import AID_VITALE, AID_VITALE_MF, card_type_from_atr
from proclient.core.domain import CardType

from .conftest import EXPECTED_DEMO


def send(card: VitaleEmulator, hexapdu: str) -> tuple[bytes, int]:
    answer = card.process(bytes.fromhex(hexapdu.replace(" ", "")))
    return answer[:-2], int.from_bytes(answer[-2:], "big")


def test_demo_cards_are_the_design_table() -> None:
    # The design's four cards first, then the identity-vigilance cases (issue 11).
    assert list(DEMO_CARDS)[:4] == ["legoff", "durand", "casanova", "bensaid"]
    assert list(DEMO_CARDS)[4:] == [
        "moreau",
        "robert",
        "leroy",
        "okafor",
        "garnier",
        "martin",
        "bernard",
        "dupont",
    ]
    for key, rows in EXPECTED_DEMO.items():
        got = [
            (b.last_name, b.first_name, b.birth_date.raw, b.nir)
            for b in demo_card(key).beneficiaries
        ]
        assert got == rows
        assert rows[0][0] in DEMO_CARDS[key].label


def test_unknown_demo_key_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="legoff"):
        VitaleEmulator.from_demo("nobody")


def test_emulated_card_has_a_vitale2_atr() -> None:
    assert card_type_from_atr(VitaleEmulator.from_demo("legoff").atr) is CardType.VITALE2


def test_identity_file_under_the_mf_is_latin1_with_a_card_template() -> None:
    card = VitaleEmulator.from_demo("bensaid")
    data, sw = send(card, "00 B0 82 00 00")
    assert sw == 0x9000
    items = tlv.parse(data)
    assert [i.tag for i in items] == [0x66, 0x65]
    assert items[0].children()[0].value == b"20190102"
    assert tlv.first(items[1].children(), 0x80).value == "BEN SAÏD".encode("latin-1")


def test_nir_file_is_read_under_the_vitale_application_only() -> None:
    card = VitaleEmulator.from_demo("casanova")
    assert send(card, "00 A4 04 00 0B" + AID_VITALE.hex()) == (b"", 0x9000)
    data, sw = send(card, "00 B0 82 00 00")
    fields = tlv.parse(data)[0].children()
    assert sw == 0x9000 and tlv.first(fields, 0x93).value == b"291092A00401281"
    assert send(card, "00 A4 00 00 02 3F 00") == (b"", 0x9000)
    data, _sw = send(card, "00 B0 82 00 00")
    assert tlv.first(tlv.parse(data)[-1].children(), 0x80).value == b"CASANOVA-ORSINI"


def test_mf_can_be_selected_by_its_aid_and_returns_fci_when_asked() -> None:
    card = VitaleEmulator.from_demo("legoff")
    send(card, "00 A4 04 00 0B" + AID_VITALE.hex())
    fci, sw = send(card, f"00 A4 04 00 {len(AID_VITALE_MF):02X}{AID_VITALE_MF.hex()} 00")
    assert sw == 0x9000 and tlv.parse(fci)[0].tag == 0x6F
    assert b"LE GOFF" in send(card, "00 B0 82 00 00")[0]


def test_pointers_file_2001_lists_both_applications() -> None:
    card = VitaleEmulator.from_demo("legoff")
    send(card, "00 A4 04 00 0B" + AID_VITALE.hex())
    assert send(card, "00 A4 00 00 02 20 01")[1] == 0x9000
    data, sw = send(card, "00 B0 00 00 00")
    (pointers,) = tlv.parse(data)
    assert sw == 0x9000 and pointers.tag == 0xE0
    apps = pointers.children()[0].children()
    assert [a.value[4:] for a in apps] == [AID_VITALE_MF, AID_VITALE]


@pytest.mark.parametrize(
    ("apdu", "sw"),
    [
        ("00 A4 04 00 03 A0 00 00", 0x6A82),  # unknown application
        ("00 A4 00 00 02 12 34", 0x6A82),  # unknown file
        ("00 B0 85 00 00", 0x6A82),  # no EF with SFI 5
        ("00 B0 00 00 00", 0x6986),  # no current EF
        ("00 B0 82 F0 00", 0x6B00),  # offset beyond the end
        ("00 2A 00 00 00", 0x6D00),  # unknown instruction
        ("80 B0 82 00 00", 0x6E00),  # proprietary class
        ("00 B0 82", 0x6700),  # too short
        ("00 A4 00 00 05 3F 00", 0x6700),  # Lc longer than the data
        ("00 A4 00 00", 0x6700),  # SELECT without data
        ("00 B0 82 00 01 00 00", 0x6700),  # READ BINARY with data
        ("00 A4 08 00 02 3F 00", 0x6A86),  # selection mode not supported
        ("00 C0 00 00 10", 0x6985),  # GET RESPONSE with nothing pending
        ("00 C0 01 00 10", 0x6A86),
    ],
)
def test_errors_answer_with_the_iso_status_word(apdu: str, sw: int) -> None:
    assert send(VitaleEmulator.from_demo("legoff"), apdu) == (b"", sw)


def test_t0_mode_answers_61xx_then_get_response() -> None:
    card = VitaleEmulator.from_demo("legoff", t0_mode=True)
    plain = send(VitaleEmulator.from_demo("legoff"), "00 B0 82 00 00")[0]
    assert send(card, "00 B0 82 00 00") == (b"", 0x6100 | len(plain))
    assert send(card, f"00 C0 00 00 {len(plain):02X}") == (plain, 0x9000)


def test_t0_chunks_chain_61xx_until_the_end() -> None:
    card = VitaleEmulator.from_demo("durand", t0_mode=True, t0_chunk=10)
    _data, sw = send(card, "00 B0 82 00 00")
    fetched = b""
    while sw >> 8 == 0x61:
        data, sw = send(card, f"00 C0 00 00 {sw & 0xFF:02X}")
        fetched += data
    assert sw == 0x9000 and fetched == VitaleEmulator.from_demo("durand").mf.efs[0].data


def test_pending_response_is_lost_after_another_command() -> None:
    card = VitaleEmulator.from_demo("legoff", t0_mode=True)
    send(card, "00 B0 82 00 00")
    send(card, "00 A4 00 00 02 3F 00")
    assert send(card, "00 C0 00 00 10") == (b"", 0x6985)


def test_wrong_le_answers_6cxx_with_the_exact_length() -> None:
    card = VitaleEmulator.from_demo("legoff", wrong_le=True)
    size = len(card.mf.efs[0].data)
    assert send(card, "00 B0 82 00 00") == (b"", 0x6C00 | size)
    assert send(card, f"00 B0 82 00 {size:02X}") == (card.mf.efs[0].data, 0x9000)


def test_pulled_card_raises_removed_at_that_apdu_and_after() -> None:
    card = VitaleEmulator.from_demo("legoff", pull_at=2)
    assert send(card, "00 A4 00 00 02 3F 00")[1] == 0x9000
    for _ in range(2):
        with pytest.raises(CardError) as caught:
            send(card, "00 B0 82 00 00")
        assert caught.value.code == "CARD_REMOVED"
    assert card.removed


def test_names_outside_latin1_cannot_be_put_on_a_card() -> None:
    from proclient.core.domain import Beneficiary, BirthDate

    with pytest.raises(ValueError):
        VitaleEmulator.from_beneficiaries([Beneficiary("ŁUKASZ", "Ø", BirthDate("19800101"), None)])
