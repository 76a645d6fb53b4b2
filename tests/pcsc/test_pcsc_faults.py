"""Faults at the counter on the real stack: card pulled at every APDU, pcscd stopped and back."""

from __future__ import annotations

import queue
import time

import pytest

from proclient.cardreader.apdu import T0Transport
from proclient.cardreader.emulator import VitaleEmulator
from proclient.cardreader.errors import CARD_REMOVED, NO_CARD, SERVICE_GONE, CardError
from proclient.cardreader.pcsc import PATIENT, PcscReaderBackend
from proclient.cardreader.port import CardEventKind
from proclient.cardreader.vitale import read_vitale
from tests.cardreader.conftest import EXPECTED_DEMO
from tests.pcsc.conftest import PATIENT_READER, wait_present


def read_rows(backend: PcscReaderBackend):
    connection = backend.connect(PATIENT)
    try:
        card = read_vitale(connection)
    finally:
        connection.disconnect()
    return [(b.last_name, b.first_name, b.birth_date.raw, b.nir) for b in card.beneficiaries]


def apdus_of_a_read(slots, mode: dict) -> int:
    emulator = VitaleEmulator.from_demo("durand", **mode)
    bridge = slots.insert(emulator)
    connection = PcscReaderBackend().connect(PATIENT)
    transport = T0Transport(connection)
    read_vitale(connection, transport=transport)
    connection.disconnect()
    bridge.remove()
    wait_present(PATIENT_READER, present=False)
    return transport.apdu_count


@pytest.mark.slow
@pytest.mark.parametrize("mode", [{}, {"t0_mode": True, "t0_chunk": 32}], ids=["plain", "t0"])
def test_card_pulled_at_every_apdu_gives_a_clean_error_then_reads_again(slots, mode) -> None:
    backend = PcscReaderBackend()
    total = apdus_of_a_read(slots, mode)
    assert total >= 4
    for pull_at in range(1, total + 1):
        bridge = slots.insert(VitaleEmulator.from_demo("durand", pull_at=pull_at, **mode))
        with pytest.raises(CardError) as caught:
            read_rows(backend)
        assert caught.value.code == CARD_REMOVED, pull_at
        assert "réinsérez" in caught.value.message
        # The next insertion in the same slot reads fine.
        bridge.replace(VitaleEmulator.from_demo("durand", **mode))
        wait_present(PATIENT_READER)
        assert read_rows(backend) == EXPECTED_DEMO["durand"]
        bridge.remove()
        wait_present(PATIENT_READER, present=False)


def test_card_pulled_before_the_read_says_insert_it(slots) -> None:
    bridge = slots.insert(VitaleEmulator.from_demo("legoff"))
    bridge.remove()
    wait_present(PATIENT_READER, present=False)
    with pytest.raises(CardError) as caught:
        read_rows(PcscReaderBackend())
    assert caught.value.code == NO_CARD


def next_event(events: queue.Queue, kind: CardEventKind, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = events.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if event.kind is kind:
            return event
    raise AssertionError(f"no {kind} event")


def test_monitoring_survives_pcscd_restart(pcscd, slots) -> None:
    events: queue.Queue = queue.Queue()
    backend = PcscReaderBackend(retry_interval=0.2)
    backend.watch(events.put)
    try:
        bridge = slots.insert(VitaleEmulator.from_demo("legoff"))
        assert next_event(events, CardEventKind.INSERTED).reader == PATIENT
        pcscd.stop()
        next_event(events, CardEventKind.SERVICE_LOST)
        with pytest.raises(CardError) as caught:
            backend.connect(PATIENT)
        assert caught.value.code == SERVICE_GONE
        assert "pcscd" in caught.value.message
        pcscd.start()
        next_event(events, CardEventKind.SERVICE_BACK)
        # The card's socket died with the daemon: the monitor reports it gone, and sees the
        # next insertion without being restarted.
        next_event(events, CardEventKind.REMOVED)
        bridge.replace(VitaleEmulator.from_demo("bensaid"))
        event = next_event(events, CardEventKind.INSERTED)
        assert event.reader == PATIENT and event.atr == VitaleEmulator.from_demo("bensaid").atr
        assert read_rows(backend) == EXPECTED_DEMO["bensaid"]
        bridge.remove()
        assert next_event(events, CardEventKind.REMOVED).reader == PATIENT
    finally:
        backend.unwatch()
        if not pcscd.serving_our_reader():
            pcscd.start()


def test_monitoring_started_while_pcscd_is_down_reports_it_then_recovers(pcscd, slots) -> None:
    pcscd.stop()
    events: queue.Queue = queue.Queue()
    backend = PcscReaderBackend(retry_interval=0.2)
    try:
        backend.watch(events.put)
        next_event(events, CardEventKind.SERVICE_LOST)
        assert backend.service_available is False
        pcscd.start()
        next_event(events, CardEventKind.SERVICE_BACK)
        slots.insert(VitaleEmulator.from_demo("casanova"))
        assert next_event(events, CardEventKind.INSERTED).reader == PATIENT
    finally:
        backend.unwatch()
        if not pcscd.serving_our_reader():
            pcscd.start()
