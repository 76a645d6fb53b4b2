"""Which adapter stands behind each port: the demo's embedded parts, or the configured ones.

The application above this module never knows which: the demo takes the same code path as
real use, only the adapters differ (virtual cards in-process, the embedded DMP service, the
software credential of a demo professional).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from proclient.cardreader.port import ReaderBackend
from proclient.config import Settings
from proclient.domain import OID_INS_NIR_TEST, DomainError
from proclient.i18n import _
from proclient.logsafe import log_unexpected

if TYPE_CHECKING:
    from proclient.credentials.base import Credential
    from proclient.credentials.pin import PinStatus
    from proclient.service.client import DmpServiceClient


@dataclass(frozen=True)
class DemoCardChoice:
    key: str
    label: str


log = logging.getLogger(__name__)


class CredentialSource:
    """Unlocks the professional's software credential (key file + certificate) with a PIN.

    ``present`` tells whether the professional's card is in its reader (the demo's virtual
    CPS): without it the credential is refused, as a pulled CPS is."""

    def __init__(self, key_path: Path, cert_path: Path, label: str, hint: str = "",
                 present: Callable[[], bool] | None = None) -> None:
        self.key_path, self.cert_path = key_path, cert_path
        self.label, self.hint = label, hint
        self.present = present

    def _require_card(self) -> None:
        if self.present is not None and not self.present():
            from proclient.credentials.pkcs11 import cps_absent

            raise cps_absent()

    def pin_status(self) -> PinStatus:
        """A key file counts no tries: nothing to warn about (blocking)."""
        from proclient.credentials.pin import PinStatus

        self._require_card()
        return PinStatus()

    def unlock(self, pin: str | bytearray) -> Credential:
        """Blocking; a bytearray ``pin`` is wiped before returning."""
        from proclient.credentials.pin import wipe
        from proclient.credentials.software import SoftwareCredential

        try:
            self._require_card()
            return SoftwareCredential.unlock(self.key_path, self.cert_path, pin)
        finally:
            if isinstance(pin, bytearray):
                wipe(pin)


class Pkcs11CredentialSource(CredentialSource):
    """Unlocks the CPS card through a PKCS#11 module (Cryptolib CPS or OpenSC; SoftHSM2 in the
    demo, with its private ``environment``)."""

    def __init__(self, module_path: str, label: str, hint: str = "", *,
                 token_label: str | None = None, environment: dict[str, str] | None = None,
                 present: Callable[[], bool] | None = None, boundary=None) -> None:
        from proclient.credentials.pkcs11 import CpsToken

        super().__init__(Path(), Path(), label, hint, present)
        extra = {"boundary": boundary} if boundary is not None else {}
        self.token = CpsToken(module_path, token_label=token_label, environment=environment,
                              **extra)

    def pin_status(self) -> PinStatus:
        self._require_card()
        return self.token.pin_status()

    def unlock(self, pin: str | bytearray) -> Credential:
        from proclient.credentials.pin import wipe

        buffer = bytearray(pin.encode()) if isinstance(pin, str) else pin
        try:
            self._require_card()
            return self.token.unlock(buffer)
        finally:
            wipe(buffer)


def demo_credentials(demo_dir: Path, user, present: Callable[[], bool]) -> CredentialSource:
    """The demo professional's CPS: a SoftHSM2 token when SoftHSM2 is installed (provisioned
    in the demo folder on first use), else the software credential of the same key (blocking)."""
    from proclient.credentials.softhsm import DEMO_TOKEN_LABEL, ensure_demo_token

    label = f"{user.professional.display_name}, {user.professional.profession}"
    try:
        store = ensure_demo_token(demo_dir / "softhsm", user.key_path, user.cert_path, user.pin)
    except Exception:
        log_unexpected(log, "demo SoftHSM2 token not provisioned")
        store = None
    if store is None:
        return CredentialSource(user.key_path, user.cert_path, label=label, present=present,
                                hint=_("Code porteur de démonstration : {pin}", pin=user.pin))
    return Pkcs11CredentialSource(
        store.module_path, label, token_label=DEMO_TOKEN_LABEL, environment=store.environment,
        present=present,
        hint=_("Carte CPS de démonstration (SoftHSM2) : code porteur {pin}", pin=user.pin))


def configured_credentials(settings: Settings,
                           present: Callable[[], bool] | None = None) -> CredentialSource:
    """The workstation's credential: the CPS through settings' PKCS#11 module when set, else
    a software key and certificate (training)."""
    if settings.credential_pkcs11_module:
        return Pkcs11CredentialSource(settings.credential_pkcs11_module, _("carte CPS"),
                                      token_label=settings.credential_token_label,
                                      present=present)
    if settings.credential_key and settings.credential_certificate:
        return CredentialSource(Path(settings.credential_key),
                                Path(settings.credential_certificate),
                                label=_("certificat logiciel"), present=present)
    raise DomainError("CONFIG", _(
        "Aucune carte CPS n'est configurée : renseignez le module PKCS#11 de la carte "
        "(réglage credential.pkcs11_module)."))


@dataclass
class ServiceBinding:
    client: DmpServiceClient
    credentials: CredentialSource
    description: str


@dataclass
class Wiring:
    demo: bool
    readers: ReaderBackend
    patient_reader: str
    ins_oid: str
    receipts_dir: Path
    receipt_format: str
    open_service: Callable[[], ServiceBinding]
    """Blocking (may import the server and create keys): call it from a thread."""
    demo_cards: tuple[DemoCardChoice, ...] = ()
    insert_demo_card: Callable[[str], None] | None = None
    remove_card: Callable[[], None] | None = None
    today: Callable[[], date] = date.today
    professional_reader: str = ""
    """The CPS's reader: pulling the card there closes the session."""
    idle_lock_minutes: int = 5
    pending_dir: Path | None = None
    """Where writes' idempotency keys wait for their answer (survives a crash or a kill)."""
    """0: never lock on idle."""
    clock: Callable[[], float] = time.monotonic
    """Seconds, for the idle lock; tests drive it."""
    toggle_demo_cps: Callable[[], None] | None = None
    printer: str | None = None
    """The CUPS queue from the settings; None: LPDEST, PRINTER, then the CUPS default."""
    auto_print: bool = False


def demo_wiring(settings: Settings) -> Wiring:
    """Virtual cards in an in-process reader, the embedded service, a demo pharmacist."""
    from proclient.cardreader.demo_cards import DEMO_CARDS
    from proclient.cardreader.emulator import VitaleEmulator
    from proclient.cardreader.virtual import (
        PATIENT_READER,
        PROFESSIONAL_READER,
        VirtualReaderBackend,
    )
    from proclient.credentials.demo_card import DemoCpsCard

    readers = VirtualReaderBackend()
    readers.insert(PROFESSIONAL_READER, DemoCpsCard())  # the pharmacist's CPS, in from the start
    demo_dir = settings.paths.demo_dir

    def cps_present() -> bool:
        return readers.card_in(PROFESSIONAL_READER) is not None

    def toggle_cps() -> None:
        if cps_present():
            readers.remove(PROFESSIONAL_READER)
        else:
            readers.insert(PROFESSIONAL_READER, DemoCpsCard())

    def open_service() -> ServiceBinding:
        from proclient.server.embedded import embedded_client

        client, pki = embedded_client(demo_dir)
        return ServiceBinding(
            client=client,
            credentials=demo_credentials(demo_dir, pki.default, cps_present),
            description=_("service DMP intégré (démonstration)"),
        )

    return Wiring(
        demo=True,
        readers=readers,
        patient_reader=PATIENT_READER,
        ins_oid=OID_INS_NIR_TEST,
        **_workstation_fields(settings),
        open_service=open_service,
        demo_cards=tuple(DemoCardChoice(key, card.label) for key, card in DEMO_CARDS.items()),
        insert_demo_card=lambda key: readers.insert(PATIENT_READER, VitaleEmulator.from_demo(key)),
        remove_card=lambda: readers.remove(PATIENT_READER),
        professional_reader=PROFESSIONAL_READER,
        toggle_demo_cps=toggle_cps,
    )


def _workstation_fields(settings: Settings) -> dict:
    """What every wiring takes from the workstation's settings."""
    return {
        "receipts_dir": settings.paths.receipts_dir,
        "receipt_format": settings.receipt_format,
        "printer": settings.printer_name,
        "auto_print": bool(settings.printer_name and settings.printer_auto),
        "idle_lock_minutes": settings.idle_lock_minutes,
        "pending_dir": settings.paths.data_dir / "pending",
    }


def pcsc_slots(settings: Settings) -> dict[str, str]:
    """The logical reader slots and the reader-name parts that pick them (settings.readers)."""
    from proclient.cardreader.pcsc import PATIENT, PROFESSIONAL

    return {PATIENT: settings.reader_patient or "", PROFESSIONAL: settings.reader_professional or ""}


def configured_wiring(settings: Settings) -> Wiring:
    """Real readers on pcscd and the configured DMP service (settings.service_url)."""
    from proclient.cardreader.pcsc import PATIENT, PROFESSIONAL, PcscReaderBackend

    if not settings.service_url:
        raise DomainError("CONFIG", _(
            "Aucun service DMP n'est réglé : renseignez service.url dans {path}.",
            path=settings.paths.config_file))
    readers = PcscReaderBackend(pcsc_slots(settings))
    credentials = configured_credentials(settings)  # raises now: said before the TUI opens

    def open_service() -> ServiceBinding:
        from proclient.service.client import DmpServiceClient

        # Checks the URL (https, or http on loopback only) and loads the CA bundle.
        client = DmpServiceClient.from_settings(settings)
        return ServiceBinding(client=client, credentials=credentials,
                              description=_("service DMP {url}", url=settings.service_url))

    return Wiring(
        demo=False,
        readers=readers,
        patient_reader=PATIENT,
        professional_reader=PROFESSIONAL,
        # Test cards and the project's service: production INS (OID_INS_NIR) comes with the
        # test-card/real-card check (HOM 6), not decided here.
        ins_oid=OID_INS_NIR_TEST,
        **_workstation_fields(settings),
        open_service=open_service,
    )


def pcsc_demo_wiring(settings: Settings, host: str | None = None,
                     port: int | None = None) -> Wiring:
    """The demo through the real card stack: pyscard → pcscd → vpcd → the demo cards, served
    by vpcd bridges from this process (``proclient demo --pcsc``). Needs pcscd with vpcd."""
    from dataclasses import replace

    from proclient.cardreader.cps_emulator import CpsEmulator
    from proclient.cardreader.emulator import VitaleEmulator
    from proclient.cardreader.pcsc import PATIENT, PROFESSIONAL, PcscReaderBackend
    from proclient.cardreader.vpcd import DEFAULT_HOST, PATIENT_PORT, VpcdBridge

    base = demo_wiring(settings)
    host, port = host or DEFAULT_HOST, port or PATIENT_PORT
    # "pcd 00 00" matches vpcd's first slot whatever its friendly name ("Virtual PCD", ours).
    readers = PcscReaderBackend({PATIENT: "pcd 00 00", PROFESSIONAL: "pcd 00 01"})
    patient = VpcdBridge(VitaleEmulator.from_demo("legoff"), port, host)
    professional = VpcdBridge(CpsEmulator(3), port + 1, host)
    try:
        professional.insert(timeout=2)
    except OSError:
        raise DomainError("NO_READER", _(
            "Aucun lecteur vpcd sur {host}:{port} : lancez pcscd avec le pilote vpcd (paquet "
            "vsmartcard-vpcd), ou « proclient demo » sans --pcsc.", host=host, port=port)) from None

    def insert(key: str) -> None:
        patient.replace(VitaleEmulator.from_demo(key))

    def toggle_cps() -> None:
        if base.toggle_demo_cps:
            base.toggle_demo_cps()  # the demo credential follows the virtual CPS's presence
        if professional.inserted:
            professional.remove()
        else:
            professional.insert()

    return replace(base, readers=readers, patient_reader=PATIENT,
                   professional_reader=PROFESSIONAL, insert_demo_card=insert,
                   remove_card=patient.remove, toggle_demo_cps=toggle_cps)
