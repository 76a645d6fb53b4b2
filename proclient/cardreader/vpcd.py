"""The vpcd bridge: one of the project's virtual cards in a real pcscd slot (vsmartcard vpcd).

The card is the TCP client of the reader (DOMAIN.md §3): connecting inserts it, closing the
socket removes it. The card binds no socket: vpcd 3.3 listens (on every interface unless
pcscd runs with tests/pcsc/vpcd_loopback.c, see docs/workstation.md) and its reverse mode, where vpcd
would connect to a listening card, makes pcscd abort when no card answers.

Frames both ways are a 2-byte big-endian length and a payload; a 1-byte message from the
reader is a control code (power off, power on, reset, get ATR), anything longer is an APDU
whose answer (data + SW) goes back in one frame.

Debian's vpcd waits for delayed TCP acknowledgements (~44 ms an APDU) unless the card asks for
an immediate ack before every ``recv`` (TCP_QUICKACK is reset by the kernel after use).
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time

from proclient.cardreader.errors import CARD_REMOVED, CardError
from proclient.cardreader.virtual import VirtualCard
from proclient.core.logsafe import log_unexpected

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"  # the vpcd slots of the pcscd on this machine
PATIENT_PORT = 35963
PROFESSIONAL_PORT = 35964

POWER_OFF, POWER_ON, RESET, GET_ATR = 0x00, 0x01, 0x02, 0x04

# A removal that a PC/SC client noticed, followed by a new insertion sooner than ~0.45 s, can
# leave vpcd's slot "empty" for good: a bridge never re-inserts faster than this.
REINSERT_DELAY = 0.6
_removed_at: dict[tuple[str, int], float] = {}  # per slot, whichever bridge served it


class VpcdBridge:
    """Serves ``card`` to the vpcd slot at ``host:port`` from a thread, until ``remove``.

    The card may raise CardError(CARD_REMOVED) from ``process`` (the emulator's ``pull_at``):
    the bridge then closes the socket, which is a card pulled out of the reader.
    """

    def __init__(
        self, card: VirtualCard, port: int = PATIENT_PORT, host: str = DEFAULT_HOST
    ) -> None:
        self.card = card
        self.host, self.port = host, port
        self.apdu_count = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- the hands of the user ---------------------------------------------------------------

    @property
    def inserted(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def insert(self, timeout: float = 5.0) -> None:
        """Connect to vpcd (the card enters the slot); raises OSError when vpcd is not there."""
        with self._lock:
            if self.inserted:
                return
            wait = _removed_at.get((self.host, self.port), 0.0) + REINSERT_DELAY - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    sock = socket.create_connection((self.host, self.port), timeout=1.0)
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(0.1)
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self._thread = threading.Thread(
                target=self._serve, args=(sock,), name=f"vpcd-card-{self.port}", daemon=True
            )
            self._thread.start()

    def remove(self) -> None:
        """Pull the card out: close the socket and wait for the serving thread."""
        with self._lock:
            sock, thread = self._sock, self._thread
            self._sock = None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5)
            self._thread = None
            _removed_at[(self.host, self.port)] = time.monotonic()

    def replace(self, card: VirtualCard) -> None:
        """Swap the card (removed first, then the new one inserted after the safe delay)."""
        self.remove()
        self.card = card
        self.insert()

    # --- the card side of the protocol -------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                message = _recv_frame(sock)
                if message is None:
                    return  # vpcd went away (pcscd stopped): the card is out
                answer = self._answer(message)
                if answer is not None:
                    sock.sendall(struct.pack(">H", len(answer)) + answer)
        except CardError as error:
            if error.code != CARD_REMOVED:
                log_unexpected(log, "virtual card failed")
        except OSError:
            pass  # closed by remove(), or pcscd stopped
        except Exception:
            log_unexpected(log, "virtual card failed")
        finally:
            # A pulled card (CARD_REMOVED) leaves the slot: closing the socket is that.
            try:
                sock.close()
            except OSError:
                pass
            _removed_at[(self.host, self.port)] = time.monotonic()

    def _answer(self, message: bytes) -> bytes | None:
        if len(message) == 1:
            code = message[0]
            if code == GET_ATR:
                return bytes(self.card.atr)
            if code in (POWER_ON, RESET, POWER_OFF):
                reset = getattr(self.card, "reset", None)
                if callable(reset):
                    reset()
                return None
            return None  # unknown control code: vpcd expects no answer
        self.apdu_count += 1
        return bytes(self.card.process(message))


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        # Asked again before every recv: the kernel clears it after sending an ack.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _recv_frame(sock: socket.socket) -> bytes | None:
    header = _recv_exact(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    return _recv_exact(sock, length) if length else b""
