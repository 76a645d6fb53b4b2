"""Card read on the real stack: pyscard → pcscd → vpcd → the demo card, per demo card.

Figure: connect to parsed identity through the pyscard backend (PcscReaderBackend, T0Transport,
read_vitale, transaction included). Floor: the same APDUs sent raw with pyscard's low-level
API on a fresh context and connection, nothing parsed. Target: at most 1.5x the floor.
Needs pcscd with our vpcd reader (scripts/services/pcscd.sh, or tests/pcsc/pcscd_control.py).
"""

from __future__ import annotations

import statistics
import sys
import time

from smartcard import scard

from proclient.cardreader.apdu import T0Transport
from proclient.cardreader.demo_cards import DEMO_CARDS
from proclient.cardreader.emulator import VitaleEmulator
from proclient.cardreader.pcsc import PATIENT, PcscReaderBackend
from proclient.cardreader.vitale import read_vitale
from proclient.cardreader.vpcd import VpcdBridge

RUNS = 200
RAW_APDUS = [
    list(bytes.fromhex(h))
    for h in ("00A40000023F00", "00B0820000", "00A404000BD250000002564954414C45", "00B0820000")
]


def read(backend: PcscReaderBackend) -> int:
    connection = backend.connect(PATIENT)
    transport = T0Transport(connection)
    read_vitale(connection, transport=transport)
    connection.disconnect()
    return transport.apdu_count


def raw(reader: str) -> None:
    _hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    _hr, handle, protocol = scard.SCardConnect(
        context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    for apdu in RAW_APDUS:
        scard.SCardTransmit(handle, protocol, apdu)
    scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
    scard.SCardReleaseContext(context)


def measure(fn, *args) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn(*args)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    backend = PcscReaderBackend({PATIENT: "pcd 00 00"})
    try:
        reader = backend.reader_name(PATIENT)
    except Exception:  # noqa: BLE001
        reader = None
    if not reader:
        print("pcscd with a vpcd reader is not running: source scripts/services/pcscd.sh")
        return 1
    bridge = VpcdBridge(VitaleEmulator.from_demo("legoff"))
    print(f"{'card':10} {'read (ms)':>10} {'raw APDUs (ms)':>15} {'ratio':>6} {'APDUs':>6}")
    try:
        for key in DEMO_CARDS:
            bridge.replace(VitaleEmulator.from_demo(key))
            time.sleep(1.0)  # pcscd notices the card (0.4 s poll) and powers it
            apdus = read(backend)
            full = measure(read, backend)
            floor = measure(raw, reader)
            print(f"{key:10} {full * 1e3:10.2f} {floor * 1e3:15.2f} {full / floor:6.2f} {apdus:6d}")
    finally:
        bridge.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
