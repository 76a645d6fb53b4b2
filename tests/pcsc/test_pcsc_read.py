"""Reading cards through the real stack: pyscard → pcscd → vpcd → the project's virtual cards."""

from __future__ import annotations

import threading

import pytest

from proclient.cardreader.apdu import T0Transport
from proclient.cardreader.cps_emulator import CpsEmulator
from proclient.cardreader.emulator import VITALE1_ATR, VitaleEmulator
from proclient.cardreader.errors import (
    MALFORMED,
    NO_CARD,
    NO_READER,
    NOT_VITALE,
    READER_BUSY,
    VITALE1_UNREADABLE,
    CardError,
)
from proclient.cardreader.faults import GarbageCard, truncated_card
from proclient.cardreader.pcsc import PATIENT, PROFESSIONAL, PcscReaderBackend
from proclient.cardreader.vitale import card_type_from_atr, read_vitale
from proclient.core.domain import Beneficiary, BirthDate, CardType
from tests.cardreader.conftest import CARD_MODES, EXPECTED_DEMO
from tests.pcsc.conftest import PATIENT_PORT, PROFESSIONAL_PORT, PROFESSIONAL_READER


def read(backend: PcscReaderBackend, slot: str = PATIENT):
    connection = backend.connect(slot)
    transport = T0Transport(connection)
    try:
        return read_vitale(connection, transport=transport), transport.apdu_count
    finally:
        connection.disconnect()


def as_rows(card):
    return [(b.last_name, b.first_name, b.birth_date.raw, b.nir) for b in card.beneficiaries]


@pytest.mark.parametrize("mode", sorted(CARD_MODES))
@pytest.mark.parametrize("key", sorted(EXPECTED_DEMO))
def test_each_demo_card_reads_through_pcscd_in_every_t0_mode(slots, key, mode) -> None:
    slots.insert(VitaleEmulator.from_demo(key, **CARD_MODES[mode]))
    card, apdus = read(PcscReaderBackend())
    assert as_rows(card) == EXPECTED_DEMO[key]
    assert card.card_type is CardType.VITALE2
    assert apdus >= 4


def test_get_response_chain_of_256_bytes_announced_as_61_00(slots) -> None:
    # Enough beneficiaries for the identity file to pass 256 bytes: the card announces a
    # full 256-byte response as 61 00, which the transport must fetch with Le = 00.
    people = [
        Beneficiary(f"BENEFICIAIRE-NUMERO-{i:02d}", "Prénom-Composé", BirthDate("20000101"), None)
        for i in range(12)
    ]
    emulator = VitaleEmulator.from_beneficiaries(people, t0_mode=True, t0_chunk=256)
    slots.insert(emulator)
    card, apdus = read(PcscReaderBackend())
    assert [b.last_name for b in card.beneficiaries] == [p.last_name for p in people]
    assert apdus > 6  # 61 00 chains and a second READ BINARY were needed


def test_wrong_le_is_corrected_once_with_6c(slots) -> None:
    emulator = VitaleEmulator.from_demo("durand", wrong_le=True)
    slots.insert(emulator)
    card, apdus = read(PcscReaderBackend())
    assert as_rows(card) == EXPECTED_DEMO["durand"]
    assert apdus == emulator.apdu_count > 4


def test_empty_slot_says_insert_the_card(slots) -> None:
    with pytest.raises(CardError) as caught:
        PcscReaderBackend().connect(PATIENT)
    assert caught.value.code == NO_CARD
    assert "insérez" in caught.value.message


def test_missing_reader_says_plug_it_in(slots) -> None:
    backend = PcscReaderBackend({PATIENT: "lecteur qui n'existe pas"})
    with pytest.raises(CardError) as caught:
        backend.connect(PATIENT)
    assert caught.value.code == NO_READER


def test_card_answering_garbage_is_a_clean_error(slots) -> None:
    slots.insert(GarbageCard(VitaleEmulator.from_demo("legoff"), at=2))
    with pytest.raises(CardError) as caught:
        read(PcscReaderBackend())
    assert caught.value.code in (MALFORMED, "STATUS_WORD")


@pytest.mark.parametrize("in_nir_file", [False, True])
def test_truncated_tlv_is_refused_not_guessed(slots, in_nir_file) -> None:
    slots.insert(truncated_card("durand", cut=4, in_nir_file=in_nir_file))
    with pytest.raises(CardError) as caught:
        read(PcscReaderBackend())
    assert caught.value.code == MALFORMED


def test_vitale1_is_recognised_and_not_read(slots) -> None:
    slots.insert(VitaleEmulator.from_demo("legoff", atr=VITALE1_ATR))
    with pytest.raises(CardError) as caught:
        read(PcscReaderBackend())
    assert caught.value.code == VITALE1_UNREADABLE


def test_cps_in_the_patient_slot_is_named(slots) -> None:
    slots.insert(CpsEmulator(4))
    with pytest.raises(CardError) as caught:
        read(PcscReaderBackend())
    assert caught.value.code == NOT_VITALE
    assert "CPS" in caught.value.message


def test_two_cards_at_once_in_the_two_slots(slots) -> None:
    slots.insert(VitaleEmulator.from_demo("casanova"))
    slots.insert(CpsEmulator(3), port=PROFESSIONAL_PORT)
    backend = PcscReaderBackend()
    assert backend.reader_name(PROFESSIONAL) == PROFESSIONAL_READER
    professional = backend.connect(PROFESSIONAL)
    try:
        assert card_type_from_atr(professional.atr) is CardType.CPS
        card, _apdus = read(backend)  # the patient card reads while the CPS is connected
    finally:
        professional.disconnect()
    assert as_rows(card) == EXPECTED_DEMO["casanova"]


def test_concurrent_reads_of_one_card_do_not_mix_their_files(slots) -> None:
    slots.insert(VitaleEmulator.from_demo("durand"))
    backend = PcscReaderBackend()
    results, errors = [], []

    def worker():
        try:
            for _ in range(5):
                results.append(as_rows(read(backend)[0]))
        except Exception as error:  # noqa: BLE001 (collected for the assertion)
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [EXPECTED_DEMO["durand"]] * 15


def test_reader_held_exclusively_by_another_program_gives_a_message(slots) -> None:
    from smartcard import scard

    slots.insert(VitaleEmulator.from_demo("legoff"), port=PATIENT_PORT)
    _hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    backend = PcscReaderBackend(sharing_wait=0.3)
    hresult, handle, _protocol = scard.SCardConnect(
        context,
        backend.reader_name(PATIENT),
        scard.SCARD_SHARE_EXCLUSIVE,
        scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
    )
    assert hresult == 0
    try:
        with pytest.raises(CardError) as caught:
            backend.connect(PATIENT)
        assert caught.value.code == READER_BUSY
    finally:
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
        scard.SCardReleaseContext(context)
    card, _apdus = read(backend)  # free again: the read works
    assert as_rows(card) == EXPECTED_DEMO["legoff"]
