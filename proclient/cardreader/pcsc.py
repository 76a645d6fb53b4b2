"""The ReaderBackend on pcscd through pyscard's low-level API (``smartcard.scard``).

Real readers, and the project's virtual cards plugged into pcscd by the vpcd bridge. Three
things pyscard's high-level classes do not give us, done here:
- monitoring that survives pcscd going away and coming back (its CardMonitor thread dies for
  good, DOMAIN.md §3): one thread polls SCardGetStatusChange and makes a new context when the
  service returns, reporting SERVICE_LOST / SERVICE_BACK / READERS_CHANGED;
- a small explicit map from PC/SC return codes to CardError codes (after OpenSC's
  reader-pcsc.c): service gone, no reader, no card, card removed, reset, sharing violation;
- logical slots: "patient" and "professional" name whichever reader matches the configured
  substring, so a reader plugged back under a new name is found again.
T=0 (61xx, 6Cxx) is not handled here: it stays in apdu.T0Transport.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from smartcard import scard

from proclient.cardreader.errors import CARD_MUTE, CARD_REMOVED, MALFORMED, NO_READER, CardError
from proclient.cardreader.pcsc_codes import (  # noqa: F401 (card_error, establish_context: API)
    ABSENT_ERRORS,
    READER_ERRORS,
    SCARD_E_CANCELLED,
    SCARD_E_SHARING_VIOLATION,
    SCARD_E_TIMEOUT,
    SCARD_W_RESET_CARD,
    SERVICE_ERRORS,
    _list_readers,
    _release,
    _u,
    assign_slots,
    card_error,
    establish_context,
)
from proclient.cardreader.port import CardEvent, CardEventKind

log = logging.getLogger(__name__)

PATIENT = "patient"
PROFESSIONAL = "professional"
PNP_READER = "\\\\?PnP?\\Notification"
SCARD_PRESENT = 0x0004  # SCardStatus's card state bit (pcsclite.h); pyscard does not export it


class PcscConnection:
    """A shared-mode connection to one card; raw APDUs (T=0 is the transport's job)."""

    def __init__(self, reader: str, context: int, handle: int, protocol: int, atr: bytes) -> None:
        self.reader = reader
        self._context, self._handle, self._protocol = context, handle, protocol
        self._atr = atr
        self._closed = False

    @property
    def atr(self) -> bytes:
        return self._atr

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if self._closed:
            raise CardError(CARD_REMOVED)
        hresult, response = scard.SCardTransmit(self._handle, self._protocol, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            if _u(hresult) == SCARD_W_RESET_CARD:
                # Another program reset the card: whatever we had selected is gone. Reconnect
                # so the next read works, and let this one fail with a clear message.
                self._reconnect()
            raise card_error(hresult)
        if not response:
            # No answer at all: vpcd (and some readers) report a card pulled mid-exchange
            # this way, before pcscd's presence poll (every 0.4 s) has noticed it.
            raise CardError(CARD_REMOVED if self._gone_within(1.0) else CARD_MUTE)
        if len(response) < 2:
            raise CardError(MALFORMED)
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def _gone_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            hresult, _name, state, _protocol, _atr = scard.SCardStatus(self._handle)
            if hresult != scard.SCARD_S_SUCCESS:
                return _u(hresult) in ABSENT_ERRORS or _u(hresult) in SERVICE_ERRORS
            if not state & SCARD_PRESENT:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Exclusive use of the card for a sequence of APDUs (SCardBeginTransaction).

        A reset noticed here happened before we selected anything: reconnect and go on.
        """
        for attempt in range(2):
            hresult = scard.SCardBeginTransaction(self._handle)
            if hresult == scard.SCARD_S_SUCCESS:
                break
            if _u(hresult) == SCARD_W_RESET_CARD and attempt == 0:
                self._reconnect()
                continue
            raise card_error(hresult)
        try:
            yield
        finally:
            scard.SCardEndTransaction(self._handle, scard.SCARD_LEAVE_CARD)

    def _reconnect(self) -> None:
        hresult, protocol = scard.SCardReconnect(
            self._handle,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            scard.SCARD_LEAVE_CARD,
        )
        if hresult != scard.SCARD_S_SUCCESS:
            raise card_error(hresult)
        self._protocol = protocol

    def disconnect(self) -> None:
        if self._closed:
            return
        self._closed = True
        scard.SCardDisconnect(self._handle, scard.SCARD_LEAVE_CARD)
        _release(self._context)


class PcscReaderBackend:
    """Readers on pcscd. ``slots`` maps logical names to reader-name substrings."""

    def __init__(
        self,
        slots: dict[str, str] | None = None,
        *,
        poll_ms: int = 1000,
        retry_interval: float = 0.5,
        sharing_wait: float = 3.0,
    ) -> None:
        self.slots = dict(slots if slots is not None else {PATIENT: "", PROFESSIONAL: ""})
        self.poll_ms = poll_ms
        self.retry_interval = retry_interval
        self.sharing_wait = sharing_wait
        self.service_available: bool | None = None  # None until the monitor has tried
        self._assigned: dict[str, str] = {}
        self._resolved: dict[str, str] = {}  # slot → reader of the last successful lookup
        self._callback: Callable[[CardEvent], None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._monitor_context: int | None = None
        # real reader → (ATR, pcscd's event counter) of the card seen in it
        self._present: dict[str, tuple[bytes, int]] = {}

    # --- the port ----------------------------------------------------------------------------

    def list_readers(self) -> list[str]:
        context = establish_context()
        try:
            return _list_readers(context)
        finally:
            _release(context)

    def reader_name(self, name: str) -> str | None:
        """The real reader behind a logical slot (or ``name`` itself), None when absent."""
        readers = self.list_readers()
        if name in self.slots:
            return assign_slots(readers, self.slots).get(name)
        return name if name in readers else None

    def connect(self, reader: str) -> PcscConnection:
        context = establish_context()
        try:
            # The reader a slot resolved to last time is tried first: listing the readers
            # costs a round trip to pcscd on every read.
            real = self._resolved.get(reader, "") if reader in self.slots else reader
            cached = bool(real) and reader in self.slots
            deadline = time.monotonic() + self.sharing_wait
            while True:
                if not real:
                    real = assign_slots(_list_readers(context), self.slots).get(reader, "")
                    if not real:
                        raise CardError(NO_READER)
                    self._resolved[reader] = real
                hresult, handle, protocol = scard.SCardConnect(
                    context,
                    real,
                    scard.SCARD_SHARE_SHARED,
                    scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
                )
                if _u(hresult) in READER_ERRORS and self._resolved.pop(reader, None) and cached:
                    cached, real = False, ""  # unplugged or renamed: list the readers again
                    continue
                # Another program holds the card exclusively: wait a little, then say so.
                if _u(hresult) == SCARD_E_SHARING_VIOLATION and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                break
            if hresult != scard.SCARD_S_SUCCESS:
                raise card_error(hresult, connecting=True)
            hresult, _name, _state, _protocol, atr = scard.SCardStatus(handle)
            if hresult != scard.SCARD_S_SUCCESS:
                scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
                raise card_error(hresult, connecting=True)
        except BaseException:
            _release(context)
            raise
        return PcscConnection(real, context, handle, protocol, bytes(atr))

    def watch(self, callback: Callable[[CardEvent], None]) -> None:
        self.unwatch()
        self._callback = callback
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pcsc-monitor", daemon=True)
        self._thread.start()

    def unwatch(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        context = self._monitor_context
        if context is not None:
            scard.SCardCancel(context)
        if thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
        self._callback = None

    # --- monitoring ----------------------------------------------------------------------------

    def _emit(self, kind: CardEventKind, reader: str = "", atr: bytes = b"") -> None:
        callback = self._callback
        if callback is None or self._stop.is_set():
            return
        logical = next((n for n, r in self._assigned.items() if r == reader), reader)
        try:
            callback(CardEvent(kind, logical, atr))
        except Exception:  # noqa: BLE001 (a failing observer must not kill monitoring)
            log.exception("card event callback failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                context = establish_context()
            except CardError:
                if self.service_available is not False:
                    self.service_available = False
                    self._emit(CardEventKind.SERVICE_LOST)
                self._stop.wait(self.retry_interval)
                continue
            came_back = self.service_available is False
            self.service_available = True
            self._monitor_context = context
            if came_back:
                self._emit(CardEventKind.SERVICE_BACK)
            try:
                self._watch(context, came_back)
            except CardError:
                pass  # the service went away: try a new context
            except Exception:
                log.exception("card monitoring failed; starting again")
                self._stop.wait(self.retry_interval)
            finally:
                self._monitor_context = None
                _release(context)
            if not self._stop.is_set():
                self.service_available = False
                self._emit(CardEventKind.SERVICE_LOST)

    def _readers(self, context: int) -> list[str]:
        readers = _list_readers(context)
        self._assigned = assign_slots(readers, self.slots)
        return readers

    def _watch(self, context: int, came_back: bool) -> None:
        """Poll one context until the service goes (raises CardError) or we are stopped."""
        readers = self._readers(context)
        states = {name: scard.SCARD_STATE_UNAWARE for name in readers}
        pnp = scard.SCARD_STATE_UNAWARE
        first = True
        if came_back:
            for gone in set(self._present) - set(readers):
                self._card_state(gone, False, b"", 0, False)
            self._emit(CardEventKind.READERS_CHANGED)
        while not self._stop.is_set():
            query = [(name, state) for name, state in states.items()] + [(PNP_READER, pnp)]
            hresult, answers = scard.SCardGetStatusChange(context, self.poll_ms, query)
            code = _u(hresult)
            if code in (SCARD_E_TIMEOUT, SCARD_E_CANCELLED):
                continue
            if code in SERVICE_ERRORS:
                raise card_error(hresult)
            readers_changed = code in READER_ERRORS
            if hresult == scard.SCARD_S_SUCCESS:
                for name, state, atr in answers:
                    if name == PNP_READER:
                        readers_changed |= bool(state & scard.SCARD_STATE_CHANGED) and pnp != 0
                        pnp = state & ~scard.SCARD_STATE_CHANGED
                        continue
                    states[name] = state & ~scard.SCARD_STATE_CHANGED
                    if state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_IGNORE):
                        readers_changed = True
                        continue
                    present = bool(state & scard.SCARD_STATE_PRESENT)
                    self._card_state(name, present, bytes(atr), state >> 16, first and came_back)
            first = False
            if readers_changed:
                readers = self._readers(context)
                for gone in set(states) - set(readers):
                    states.pop(gone)
                    self._card_state(gone, False, b"", 0, False)
                for new in readers:
                    states.setdefault(new, scard.SCARD_STATE_UNAWARE)
                self._emit(CardEventKind.READERS_CHANGED)

    def _card_state(self, reader: str, present: bool, atr: bytes, count: int, resync: bool) -> None:
        previous = self._present.get(reader)
        if present:
            # The event counter tells a card pulled and pushed back between two polls. After
            # the service came back the card is reported again, so that the application
            # re-reads it (and keeps its work when it is the same card).
            if previous is not None and previous == (atr, count) and not resync:
                return
            if previous is not None and not resync:
                self._emit(CardEventKind.REMOVED, reader)
            self._present[reader] = (atr, count)
            self._emit(CardEventKind.INSERTED, reader, atr)
        elif previous is not None:
            del self._present[reader]
            self._emit(CardEventKind.REMOVED, reader)
