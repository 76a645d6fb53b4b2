"""Card inserted to identity parsed, through the reader port, for each demo card.

Floor: the same APDUs sent raw to the emulator, with no transport or parsing on top.
"""

from __future__ import annotations

import statistics
import time

from proclient.cardreader.apdu import T0Transport
from proclient.cardreader.demo_cards import DEMO_CARDS
from proclient.cardreader.emulator import VitaleEmulator
from proclient.cardreader.virtual import PATIENT_READER, VirtualReaderBackend
from proclient.cardreader.vitale import read_vitale

RUNS = 2000


RAW_APDUS = [
    bytes.fromhex(h)
    for h in ("00A40000023F00", "00B0820000", "00A404000BD250000002564954414C45", "00B0820000")
]


def measure(fn, *args) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn(*args)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def read(readers: VirtualReaderBackend) -> int:
    """The application's path: connect, T=0 transport, Vitale reading and parsing."""
    connection = readers.connect(PATIENT_READER)
    transport = T0Transport(connection)
    read_vitale(connection, transport=transport)
    connection.disconnect()
    return transport.apdu_count


def raw(emulator: VitaleEmulator) -> None:
    """The floor: the same four APDUs straight to the card, nothing parsed."""
    emulator.reset()
    for apdu in RAW_APDUS:
        emulator.process(apdu)


def main() -> None:
    readers = VirtualReaderBackend()
    print(f"{'card':10} {'read (µs)':>10} {'raw APDUs (µs)':>15} {'ratio':>6} {'APDUs':>6}")
    for key in DEMO_CARDS:
        readers.insert(PATIENT_READER, VitaleEmulator.from_demo(key))
        apdus = read(readers)
        full = measure(read, readers)
        floor = measure(raw, VitaleEmulator.from_demo(key))
        print(f"{key:10} {full * 1e6:10.1f} {floor * 1e6:15.1f} {full / floor:6.1f} {apdus:6d}")


if __name__ == "__main__":
    main()
