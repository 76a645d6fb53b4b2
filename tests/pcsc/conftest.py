"""The real PC/SC stack for these tests: pyscard → pcscd → vpcd → the project's virtual cards.

One pcscd per machine (its socket is a fixed path): the session fixture takes a lock file,
reuses the daemon started by scripts/services/pcscd.sh when it serves our vpcd reader on
loopback only, or starts its own (stopping any other by its pid). Tests that stop or restart
pcscd use ``pcscd.restart()``, in scripts/services/pcscd.sh's directory when it started one
(PROCLIENT_PCSCD_DIR: its watchdog stops whatever pcscd runs from there when the run ends);
otherwise the session stops the pcscd it started. Without pcscd the tests skip with the
reason, and fail instead when PROCLIENT_REQUIRE_REAL=1.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import pcscd_control  # noqa: E402  (a plain module: scripts/services/pcscd.sh runs it too)

PATIENT_READER = pcscd_control.PATIENT_READER
PROFESSIONAL_READER = pcscd_control.PROFESSIONAL_READER
PATIENT_PORT = pcscd_control.BASE_PORT
PROFESSIONAL_PORT = pcscd_control.BASE_PORT + 1


def unavailable(reason: str) -> None:
    if os.environ.get("PROCLIENT_REQUIRE_REAL"):
        pytest.fail(f"pcscd is required here (PROCLIENT_REQUIRE_REAL is set): {reason}")
    pytest.skip(f"real PC/SC stack unavailable: {reason}")


class Pcscd:
    """The daemon under test: stop, start, restart (same reader configuration)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def serving_our_reader(self) -> bool:
        """Our vpcd reader is there, its slots listening on loopback only."""
        from proclient.cardreader.pcsc import PcscReaderBackend

        if not all(
            pcscd_control.on_loopback_only(port) for port in (PATIENT_PORT, PROFESSIONAL_PORT)
        ):
            return False  # not there, or an older pcscd listening on every interface
        try:
            return PATIENT_READER in PcscReaderBackend().list_readers()
        except Exception:  # noqa: BLE001 (no daemon, or not ours)
            return False

    def start(self) -> None:
        pcscd_control.start(self.directory)

    def stop(self) -> None:
        pcscd_control.stop()

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory) -> Pcscd:
    try:
        pcscd_control.check_tools()
    except pcscd_control.Unavailable as error:
        unavailable(str(error))
    try:
        lock = pcscd_control.acquire_lock()  # held for the session
    except pcscd_control.Unavailable as error:
        unavailable(str(error))
    shared = os.environ.get("PROCLIENT_PCSCD_DIR")  # scripts/services/pcscd.sh's, watched
    daemon = Pcscd(Path(shared) if shared else tmp_path_factory.mktemp("pcscd"))
    try:
        if not daemon.serving_our_reader():
            try:
                daemon.start()
            except pcscd_control.Unavailable as error:
                unavailable(str(error))
        yield daemon
    finally:
        if not shared:
            pcscd_control.stop_ours(daemon.directory)  # the run leaves no pcscd behind
        lock.close()


@pytest.fixture
def slots(pcscd):
    """Cards in the two vpcd slots; whatever a test inserted is pulled out afterwards."""
    from proclient.cardreader.vpcd import VpcdBridge

    if not pcscd.serving_our_reader():
        pcscd.start()  # an earlier test stopped it and failed before starting it again
    bridges: list[VpcdBridge] = []

    class Slots:
        def insert(self, card, port: int = PATIENT_PORT, settle: bool = True) -> VpcdBridge:
            bridge = VpcdBridge(card, port=port)
            bridge.insert()
            bridges.append(bridge)
            if settle:
                wait_present(PATIENT_READER if port == PATIENT_PORT else PROFESSIONAL_READER)
            return bridge

    yield Slots()
    for bridge in bridges:
        bridge.remove()
    # The next test starts with empty slots as pcscd sees them (it polls every 0.4 s).
    if pcscd.serving_our_reader():
        for bridge in bridges:
            wait_present(
                PATIENT_READER if bridge.port == PATIENT_PORT else PROFESSIONAL_READER,
                present=False,
            )


def wait_present(reader: str, present: bool = True, timeout: float = 10.0) -> None:
    """Wait until pcscd sees a card in ``reader`` (or sees it gone)."""
    from smartcard import scard

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult == 0:
            try:
                hresult, states = scard.SCardGetStatusChange(
                    context, 0, [(reader, scard.SCARD_STATE_UNAWARE)]
                )
                if hresult == 0:
                    seen = bool(states[0][1] & scard.SCARD_STATE_PRESENT)
                    if seen == present:
                        return
            finally:
                scard.SCardReleaseContext(context)
        time.sleep(0.05)
    raise AssertionError(f"pcscd never saw the card {'inserted' if present else 'removed'}")


# The TUI on the real stack: the demo's service and credential, pyscard readers.


@pytest.fixture
def pcsc_app(settings, demo_pki_cache, slots, client_budgets):
    """The application with the pyscard backend on our vpcd reader; cards go in via ``slots``."""
    import shutil

    from proclient.app import ProclientApp
    from proclient.cardreader.emulator import VitaleEmulator
    from proclient.cardreader.pcsc import PATIENT, PROFESSIONAL, PcscReaderBackend
    from proclient.wiring import demo_wiring

    target = settings.paths.demo_dir / "demo-pki"
    if not target.exists():
        shutil.copytree(demo_pki_cache, target)
    wiring = demo_wiring(settings, client_options=client_budgets)
    wiring.readers = PcscReaderBackend(
        {PATIENT: PATIENT_READER, PROFESSIONAL: PROFESSIONAL_READER}, retry_interval=0.2
    )
    wiring.patient_reader, wiring.professional_reader = PATIENT, PROFESSIONAL
    presence = wiring.deck

    class SlotsDeck:
        """The demo's cards go into the vpcd slot; the CPS stays the demo's."""

        choices = presence.choices

        def insert(self, key: str) -> None:
            slots.insert(VitaleEmulator.from_demo(key))

        def remove(self) -> None:
            raise NotImplementedError("tests pull cards through the slots fixture")

        def toggle_cps(self) -> None:
            presence.toggle_cps()

        def cps_present(self) -> bool:
            return presence.cps_present()

    wiring.deck = SlotsDeck()
    return ProclientApp(wiring)
