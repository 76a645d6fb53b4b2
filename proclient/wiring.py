"""Which adapter stands behind each port: the demo's embedded parts, or the configured ones.

The application above this module never knows which: the demo takes the same code path as
real use, only the adapters differ (virtual cards in-process, the embedded DMP service, the
software credential of a demo professional).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from proclient.cardreader.port import ReaderBackend
from proclient.config import Settings
from proclient.domain import OID_INS_NIR_TEST, DomainError
from proclient.i18n import _

if TYPE_CHECKING:
    from proclient.credentials.base import Credential
    from proclient.service.client import DmpServiceClient


@dataclass(frozen=True)
class DemoCardChoice:
    key: str
    label: str


class CredentialSource:
    """Unlocks the professional's credential with a PIN (software key file for now)."""

    def __init__(self, key_path: Path, cert_path: Path, label: str, hint: str = "") -> None:
        self.key_path, self.cert_path = key_path, cert_path
        self.label, self.hint = label, hint

    def unlock(self, pin: str) -> Credential:
        from proclient.credentials.software import SoftwareCredential

        return SoftwareCredential.unlock(self.key_path, self.cert_path, pin)


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


def demo_wiring(settings: Settings) -> Wiring:
    """Virtual cards in an in-process reader, the embedded service, a demo pharmacist."""
    from proclient.cardreader.demo_cards import DEMO_CARDS
    from proclient.cardreader.emulator import VitaleEmulator
    from proclient.cardreader.virtual import PATIENT_READER, VirtualReaderBackend

    readers = VirtualReaderBackend()
    demo_dir = settings.paths.demo_dir

    def open_service() -> ServiceBinding:
        from proclient.server.embedded import embedded_client

        client, pki = embedded_client(demo_dir)
        user = pki.default
        return ServiceBinding(
            client=client,
            credentials=CredentialSource(
                user.key_path,
                user.cert_path,
                label=f"{user.professional.display_name}, {user.professional.profession}",
                hint=_("Code porteur de démonstration : {pin}", pin=user.pin),
            ),
            description=_("service DMP intégré (démonstration)"),
        )

    return Wiring(
        demo=True,
        readers=readers,
        patient_reader=PATIENT_READER,
        ins_oid=OID_INS_NIR_TEST,
        receipts_dir=settings.paths.receipts_dir,
        receipt_format=settings.receipt_format,
        open_service=open_service,
        demo_cards=tuple(DemoCardChoice(key, card.label) for key, card in DEMO_CARDS.items()),
        insert_demo_card=lambda key: readers.insert(PATIENT_READER, VitaleEmulator.from_demo(key)),
        remove_card=lambda: readers.remove(PATIENT_READER),
    )


def configured_wiring(settings: Settings) -> Wiring:
    """Real readers and a configured service. The PC/SC reader backend is not built yet."""
    raise DomainError(
        "NOT_AVAILABLE",
        _(
            "La lecture sur lecteur PC/SC réel n'est pas encore disponible dans cette version : "
            "lancez « proclient demo » pour la démonstration."
        ),
    )
