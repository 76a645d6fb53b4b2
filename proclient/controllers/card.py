"""The patient's card: which reader is whose, what is in it, reading it."""

from __future__ import annotations

import enum
from collections.abc import Callable

from proclient.cardreader.port import CardEvent, CardEventKind, ReaderBackend
from proclient.domain import VitaleCard

# Codes after which typing the identity is the way on (the card cannot be read here).
MANUAL_ENTRY_CODES = frozenset(
    {"VITALE1_UNREADABLE", "NOT_VITALE", "NO_BENEFICIARY", "MALFORMED", "STATUS_WORD"}
)


class Slot(enum.Enum):
    """Whom a card event concerns."""

    PATIENT = "patient"
    PROFESSIONAL = "professional"
    SERVICE = "service"  # pcscd stopped or back, readers changed
    OTHER = "other"


class CardController:
    def __init__(
        self, readers: ReaderBackend, patient_reader: str, professional_reader: str = ""
    ) -> None:
        self.readers = readers
        self.patient_reader = patient_reader
        self.professional_reader = professional_reader
        self.present = False  # a card is in the patient's reader

    def watch(self, callback: Callable[[CardEvent], None]) -> None:
        """``callback`` is called from the reader's thread: it must only post a message."""
        self.readers.watch(callback)

    def unwatch(self) -> None:
        self.readers.unwatch()

    def slot_of(self, event: CardEvent) -> Slot:
        if event.kind in (
            CardEventKind.SERVICE_LOST,
            CardEventKind.SERVICE_BACK,
            CardEventKind.READERS_CHANGED,
        ):
            return Slot.SERVICE
        if event.reader and event.reader == self.professional_reader:
            return Slot.PROFESSIONAL
        if event.reader == self.patient_reader:
            if event.kind is CardEventKind.INSERTED:
                self.present = True
            elif event.kind is CardEventKind.REMOVED:
                self.present = False
            return Slot.PATIENT
        return Slot.OTHER

    def read(self) -> VitaleCard:
        """Blocking (APDUs): run it in a thread. Raises DomainError (CardError) in French."""
        from proclient.cardreader.vitale import read_vitale

        connection = self.readers.connect(self.patient_reader)
        try:
            return read_vitale(connection)
        finally:
            connection.disconnect()
