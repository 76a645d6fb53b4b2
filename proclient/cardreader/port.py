"""The card reader port: what the application needs from any reader stack.

Two backends stand behind it: the in-process virtual reader (demo, tests) and pyscard on
pcscd (real readers, and virtual cards through vpcd). Code above this port never knows which.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class CardEventKind(enum.StrEnum):
    INSERTED = "inserted"
    REMOVED = "removed"
    READERS_CHANGED = "readers_changed"
    SERVICE_LOST = "service_lost"
    SERVICE_BACK = "service_back"


@dataclass(frozen=True)
class CardEvent:
    kind: CardEventKind
    reader: str = ""
    atr: bytes = b""


class CardConnection(Protocol):
    """A connection to the card in one reader: raw APDU exchange, no T=0 handling.

    Optional: ``transaction()``, a context manager giving this connection exclusive use of the
    card for a sequence of APDUs (PC/SC's SCardBeginTransaction/EndTransaction; a lock in the
    virtual reader). read_vitale uses it when present, so that another program's SELECT cannot
    slip between ours. It is not part of the protocol's required methods: a bare card
    emulator used as a connection has none.
    """

    @property
    def atr(self) -> bytes: ...

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one APDU; return (response data, status word as an int, e.g. 0x9000)."""
        ...

    def disconnect(self) -> None: ...


class ReaderBackend(Protocol):
    """Readers, card presence events and connections."""

    def list_readers(self) -> list[str]: ...

    def connect(self, reader: str) -> CardConnection:
        """Connect to the card in ``reader`` (shared mode). Raises CardError when empty."""
        ...

    def watch(self, callback: Callable[[CardEvent], None]) -> None:
        """Start calling ``callback`` on card and reader events (from any thread).
        The cards present when watching starts are reported as INSERTED events."""
        ...

    def unwatch(self) -> None: ...
