"""The in-process virtual readers: events, connections, removal, threads."""

from __future__ import annotations

import threading

import pytest

from proclient.cardreader.emulator import VitaleEmulator
from proclient.cardreader.errors import CardError
from proclient.cardreader.port import CardEvent, CardEventKind
from proclient.cardreader.virtual import (
    DEFAULT_READERS,
    PATIENT_READER,
    PROFESSIONAL_READER,
    VirtualReaderBackend,
)
from proclient.cardreader.vitale import read_vitale

from .conftest import EXPECTED_DEMO

INSERTED, REMOVED = CardEventKind.INSERTED, CardEventKind.REMOVED


@pytest.fixture
def readers() -> VirtualReaderBackend:
    return VirtualReaderBackend()


@pytest.fixture
def events(readers: VirtualReaderBackend) -> list[CardEvent]:
    seen: list[CardEvent] = []
    readers.watch(seen.append)
    return seen


def test_two_named_readers_by_default(readers) -> None:
    assert readers.list_readers() == list(DEFAULT_READERS)
    assert DEFAULT_READERS == ("proclient virtuel — patient", "proclient virtuel — professionnel")


def test_insert_and_remove_are_reported_with_the_atr(readers, events) -> None:
    card = VitaleEmulator.from_demo("legoff")
    readers.insert(PATIENT_READER, card)
    readers.remove(PATIENT_READER)
    readers.remove(PATIENT_READER)  # already empty: nothing to report
    assert events == [
        CardEvent(INSERTED, PATIENT_READER, card.atr),
        CardEvent(REMOVED, PATIENT_READER),
    ]


def test_cards_present_when_watching_starts_are_reported_inserted(readers) -> None:
    card = VitaleEmulator.from_demo("durand")
    readers.insert(PROFESSIONAL_READER, card)
    seen: list[CardEvent] = []
    readers.watch(seen.append)
    assert seen == [CardEvent(INSERTED, PROFESSIONAL_READER, card.atr)]


def test_unwatch_stops_the_events(readers, events) -> None:
    readers.unwatch()
    readers.insert(PATIENT_READER, VitaleEmulator.from_demo("legoff"))
    assert events == []


def test_inserting_over_a_card_swaps_it(readers, events) -> None:
    readers.insert(PATIENT_READER, VitaleEmulator.from_demo("legoff"))
    readers.insert(PATIENT_READER, VitaleEmulator.from_demo("durand"))
    assert [e.kind for e in events] == [INSERTED, REMOVED, INSERTED]
    assert read_vitale(readers.connect(PATIENT_READER)).beneficiaries[0].last_name == "DURAND"


def test_empty_reader_gives_no_card(readers) -> None:
    with pytest.raises(CardError) as caught:
        readers.connect(PATIENT_READER)
    assert caught.value.code == "NO_CARD"
    assert "insérez la carte Vitale" in caught.value.message


def test_unknown_reader_gives_no_reader(readers) -> None:
    with pytest.raises(CardError) as caught:
        readers.connect("lecteur fantôme")
    assert caught.value.code == "NO_READER"


def test_connection_to_a_removed_card_gives_card_removed(readers) -> None:
    readers.insert(PATIENT_READER, VitaleEmulator.from_demo("legoff"))
    connection = readers.connect(PATIENT_READER)
    readers.remove(PATIENT_READER)
    readers.insert(PATIENT_READER, VitaleEmulator.from_demo("durand"))
    # Another card in the same reader: the old connection must not read the new patient.
    with pytest.raises(CardError) as caught:
        read_vitale(connection)
    assert caught.value.code == "CARD_REMOVED"


def test_card_pulled_during_read_is_reported_removed(readers, events) -> None:
    readers.insert(PATIENT_READER, VitaleEmulator.from_demo("durand", pull_at=3))
    with pytest.raises(CardError) as caught:
        read_vitale(readers.connect(PATIENT_READER))
    assert caught.value.code == "CARD_REMOVED"
    assert [e.kind for e in events] == [INSERTED, REMOVED]
    assert readers.card_in(PATIENT_READER) is None


def test_disconnected_connection_refuses_to_transmit(readers) -> None:
    readers.insert(PATIENT_READER, VitaleEmulator.from_demo("legoff"))
    connection = readers.connect(PATIENT_READER)
    connection.disconnect()
    with pytest.raises(CardError):
        connection.transmit(bytes.fromhex("00A40000023F00"))


def test_unplugging_a_reader_removes_its_card_first(readers, events) -> None:
    readers.add_reader("lecteur USB")
    readers.insert("lecteur USB", VitaleEmulator.from_demo("legoff"))
    readers.remove_reader("lecteur USB")
    kinds = [e.kind for e in events]
    assert kinds == [
        CardEventKind.READERS_CHANGED,
        INSERTED,
        REMOVED,
        CardEventKind.READERS_CHANGED,
    ]
    assert "lecteur USB" not in readers.list_readers()


def test_callback_may_connect_and_read_from_inside_the_event(readers) -> None:
    read: list[str] = []

    def on_event(event: CardEvent) -> None:
        if event.kind is INSERTED:
            card = read_vitale(readers.connect(event.reader))
            read.append(card.beneficiaries[0].first_name)

    readers.watch(on_event)
    readers.insert(PATIENT_READER, VitaleEmulator.from_demo("casanova"))
    assert read == ["Marie-Ange"]


def test_reads_racing_insertions_and_removals_never_mix_two_patients(readers) -> None:
    events: list[CardEvent] = []
    readers.watch(events.append)
    expected = [EXPECTED_DEMO["legoff"], EXPECTED_DEMO["casanova"]]
    stop = threading.Event()
    failures: list[BaseException] = []
    outcomes: list[str] = []
    read_done = threading.Event()

    def reader_thread() -> None:
        while not stop.is_set():
            try:
                card = read_vitale(readers.connect(PATIENT_READER))
            except CardError as error:
                outcomes.append(error.code)
                continue
            except BaseException as error:
                failures.append(error)
                return
            rows = [
                (b.last_name, b.first_name, b.birth_date.raw, b.nir) for b in card.beneficiaries
            ]
            outcomes.append("read" if rows in expected else f"mixed: {rows}")
            read_done.set()

    threads = [threading.Thread(target=reader_thread) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(300):
        readers.insert(PATIENT_READER, VitaleEmulator.from_demo("legoff" if i % 2 else "casanova"))
        if i % 50 == 0:  # now and then, leave the card in until someone has read it
            read_done.clear()
            read_done.wait(5)
        readers.remove(PATIENT_READER)
    stop.set()
    for thread in threads:
        thread.join(5)
    assert not failures
    # One card per read, never one patient's name with another's NIR; three readers sharing
    # the card never see each other's SELECTs; a card taken out mid-read is CARD_REMOVED.
    assert set(outcomes) <= {"read", "NO_CARD", "CARD_REMOVED"}, set(outcomes)
    assert "read" in outcomes
    assert [e.kind for e in events] == [INSERTED, REMOVED] * 300  # in the order they happened
