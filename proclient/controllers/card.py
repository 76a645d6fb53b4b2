"""The patient's card: which reader is whose, what is in it, reading it."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from proclient.cardreader.port import CardEvent, CardEventKind, ReaderBackend
from proclient.core.domain import VitaleCard
from proclient.core.flow import CreationFlow

# How long a patient's flow is kept, in memory only, after their card was pulled at steps
# 2–4: putting the same card back within this time offers to resume. A constant, not a
# setting: long enough for a card pulled by mistake, short enough for the next patient.
RESUME_SECONDS = 120.0

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
        self,
        readers: ReaderBackend,
        patient_reader: str,
        professional_reader: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.readers = readers
        self.patient_reader = patient_reader
        self.professional_reader = professional_reader
        self.clock = clock
        self.present = False  # a card is in the patient's reader
        # The flow of a card pulled at steps 2–4 and when: in this object only, never
        # written anywhere, dropped after RESUME_SECONDS (expire_pulled), on another card,
        # on an answer to the offer, or when the CPS session ends.
        self._pulled: tuple[CreationFlow, float] | None = None

    # --- a card pulled by mistake -------------------------------------------------------------

    def keep_pulled(self, flow: CreationFlow) -> None:
        self._pulled = (flow, self.clock())

    def pulled_for(self, card: VitaleCard) -> CreationFlow | None:
        """The flow kept for ``card`` if it is the card pulled, put back in time; another card
        drops what was kept (it starts afresh)."""
        self.expire_pulled()
        if self._pulled is None:
            return None
        flow = self._pulled[0]
        if flow.card != card:
            self.forget_pulled()
            return None
        return flow

    def take_pulled(self) -> CreationFlow | None:
        """What was kept, still in time, handed over once and forgotten here."""
        self.expire_pulled()
        flow = self._pulled[0] if self._pulled else None
        self._pulled = None  # the caller copies it (CreationFlow.resume), then drops it
        return flow

    def expire_pulled(self) -> bool:
        """Drop what was kept once RESUME_SECONDS have passed; True when it was dropped now."""
        if self._pulled is not None and self.clock() - self._pulled[1] > RESUME_SECONDS:
            self.forget_pulled()
            return True
        return False

    def forget_pulled(self) -> None:
        if self._pulled is not None:
            self._pulled[0].reset()  # the copy's fields go too, not only this reference
        self._pulled = None

    @property
    def holds_pulled(self) -> bool:
        return self._pulled is not None

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
