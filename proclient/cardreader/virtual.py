"""In-process readers holding emulated cards: the ReaderBackend of the demo and the tests.

Events are delivered in the order the changes happened, with no lock held, usually in the
thread that made the change (another thread already delivering may deliver it instead).
Callbacks should only post a message and return.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from proclient.cardreader.errors import CARD_REMOVED, MALFORMED, NO_CARD, NO_READER, CardError
from proclient.cardreader.port import CardEvent, CardEventKind

PATIENT_READER = "proclient virtuel — patient"
PROFESSIONAL_READER = "proclient virtuel — professionnel"
DEFAULT_READERS = (PATIENT_READER, PROFESSIONAL_READER)


class VirtualCard(Protocol):
    """Any emulated card: an ATR and raw APDU answers (data + SW1 SW2)."""

    @property
    def atr(self) -> bytes: ...

    def process(self, apdu: bytes) -> bytes: ...


@dataclass
class _Slot:
    card: VirtualCard | None = None
    generation: int = 0  # bumped at each insertion: a connection belongs to one insertion
    # Held for a whole read, like SCardBeginTransaction: two readers interleaving SELECTs on
    # one card would each read the other's file.
    transaction: threading.RLock = field(default_factory=threading.RLock)


class VirtualReaderBackend:
    """Named virtual readers; ``insert``/``remove`` cards from any thread."""

    def __init__(self, readers: tuple[str, ...] = DEFAULT_READERS) -> None:
        self._slots = {name: _Slot() for name in readers}
        self._callback: Callable[[CardEvent], None] | None = None
        self._state = threading.Lock()  # slots, callback, queue; never held during a callback
        self._queue: deque[CardEvent] = deque()  # filled under _state: the order of changes
        self._delivering = False

    # --- the port ----------------------------------------------------------------------------

    def list_readers(self) -> list[str]:
        with self._state:
            return list(self._slots)

    def connect(self, reader: str) -> VirtualConnection:
        with self._state:
            slot = self._require(reader)
            if slot.card is None:
                raise CardError(NO_CARD)
            return VirtualConnection(self, reader, slot.card, slot.generation, slot.transaction)

    def watch(self, callback: Callable[[CardEvent], None]) -> None:
        with self._state:
            self._callback = callback
            for name, slot in self._slots.items():
                if slot.card is not None:
                    self._queue.append(CardEvent(CardEventKind.INSERTED, name, slot.card.atr))
        self._deliver()

    def unwatch(self) -> None:
        with self._state:
            self._callback = None
            self._queue.clear()

    # --- the hands of the user ---------------------------------------------------------------

    def insert(self, reader: str, card: VirtualCard) -> None:
        """Put ``card`` in ``reader`` (a card already there is removed first)."""
        with self._state:
            slot = self._require(reader)
            self._take_out(reader, slot)
            slot.card = card
            slot.generation += 1
            slot.transaction = threading.RLock()
            self._post(CardEvent(CardEventKind.INSERTED, reader, card.atr))
        self._deliver()

    def remove(self, reader: str) -> None:
        """Take the card out of ``reader``; nothing happens when it is empty."""
        with self._state:
            self._take_out(reader, self._require(reader))
        self._deliver()

    def add_reader(self, reader: str) -> None:
        """A reader is plugged in."""
        with self._state:
            if reader not in self._slots:
                self._slots[reader] = _Slot()
                self._post(CardEvent(CardEventKind.READERS_CHANGED))
        self._deliver()

    def remove_reader(self, reader: str) -> None:
        """A reader is unplugged, with its card if any (REMOVED, then READERS_CHANGED)."""
        with self._state:
            slot = self._slots.pop(reader, None)
            if slot is not None:
                self._take_out(reader, slot)
                self._post(CardEvent(CardEventKind.READERS_CHANGED))
        self._deliver()

    def card_in(self, reader: str) -> VirtualCard | None:
        with self._state:
            return self._require(reader).card

    # --- internals (callers hold _state unless said otherwise) ---------------------------

    def _require(self, reader: str) -> _Slot:
        slot = self._slots.get(reader)
        if slot is None:
            raise CardError(NO_READER)
        return slot

    def _take_out(self, reader: str, slot: _Slot) -> None:
        if slot.card is not None:
            slot.card = None
            self._post(CardEvent(CardEventKind.REMOVED, reader))

    def _post(self, event: CardEvent) -> None:
        if self._callback is not None:
            self._queue.append(event)

    def _deliver(self) -> None:
        """Hand queued events to the callback, one deliverer at a time (call without _state)."""
        while True:
            with self._state:
                if self._delivering or not self._queue:
                    return
                self._delivering = True
                event, callback = self._queue.popleft(), self._callback
            try:
                if callback is not None:
                    callback(event)
            finally:
                with self._state:
                    self._delivering = False

    def _transmit(self, conn: VirtualConnection, apdu: bytes) -> bytes:
        with conn.transaction():
            with self._state:
                slot = self._slots.get(conn.reader)
                if slot is None or slot.card is not conn.card or slot.generation != conn.generation:
                    raise CardError(CARD_REMOVED)
                try:
                    # Under the lock: a removal must not happen in the middle of an exchange.
                    return conn.card.process(apdu)
                except CardError as error:
                    if error.code != CARD_REMOVED:
                        raise
                # The emulated card was pulled mid-exchange: the reader notices and says so.
                self._take_out(conn.reader, slot)
            self._deliver()
            raise CardError(CARD_REMOVED)


class VirtualConnection:
    """A CardConnection to the card of one insertion; dead once that card is removed."""

    def __init__(
        self,
        backend: VirtualReaderBackend,
        reader: str,
        card: VirtualCard,
        generation: int,
        lock: threading.RLock,
    ) -> None:
        self._backend = backend
        self._lock = lock
        self.reader = reader
        self.card = card
        self.generation = generation
        self._closed = False

    @property
    def atr(self) -> bytes:
        return self.card.atr

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Exclusive use of the card for a sequence of APDUs (other connections wait)."""
        with self._lock:
            yield

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if self._closed:
            raise CardError(CARD_REMOVED)
        response = self._backend._transmit(self, bytes(apdu))
        if len(response) < 2:
            raise CardError(MALFORMED)
        return response[:-2], int.from_bytes(response[-2:], "big")

    def disconnect(self) -> None:
        self._closed = True
