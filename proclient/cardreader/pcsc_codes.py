"""PC/SC basics for the pyscard backend: return codes mapped to CardError codes (after OpenSC's
reader-pcsc.c), contexts, reader lists, and which reader stands for which logical slot."""

from __future__ import annotations

import logging

from smartcard import scard

from proclient.cardreader.errors import (
    CARD_MUTE,
    CARD_REMOVED,
    CARD_RESET,
    NO_CARD,
    NO_READER,
    READER_BUSY,
    SERVICE_GONE,
    CardError,
)

log = logging.getLogger("proclient.cardreader.pcsc")


def _u(code: int) -> int:
    return code & 0xFFFFFFFF


SCARD_E_TIMEOUT = _u(scard.SCARD_E_TIMEOUT)
SCARD_E_CANCELLED = _u(scard.SCARD_E_CANCELLED)
SCARD_W_RESET_CARD = _u(scard.SCARD_W_RESET_CARD)
SCARD_E_SHARING_VIOLATION = _u(scard.SCARD_E_SHARING_VIOLATION)
SERVICE_ERRORS = frozenset(
    _u(c)
    for c in (
        scard.SCARD_E_NO_SERVICE,
        scard.SCARD_E_SERVICE_STOPPED,
        scard.SCARD_F_COMM_ERROR,
        scard.SCARD_E_INVALID_HANDLE,
        scard.SCARD_F_INTERNAL_ERROR,
        scard.SCARD_E_NO_MEMORY,
    )
)
READER_ERRORS = frozenset(
    _u(c)
    for c in (
        scard.SCARD_E_NO_READERS_AVAILABLE,
        scard.SCARD_E_UNKNOWN_READER,
        scard.SCARD_E_READER_UNAVAILABLE,
    )
)
ABSENT_ERRORS = frozenset(
    _u(c)
    for c in (scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NOT_TRANSACTED)
)


def card_error(hresult: int, *, connecting: bool = False) -> CardError:
    """The CardError for a PC/SC return code. An absent card is NO_CARD when connecting and
    CARD_REMOVED once a read has begun (pulled mid-session: 80100016 then 80100069)."""
    code = _u(hresult)
    if code in SERVICE_ERRORS:
        return CardError(SERVICE_GONE)
    if code in READER_ERRORS:
        return CardError(NO_READER)
    if code in ABSENT_ERRORS:
        return CardError(NO_CARD if connecting else CARD_REMOVED)
    if code == SCARD_W_RESET_CARD:
        return CardError(CARD_RESET)
    if code == SCARD_E_SHARING_VIOLATION:
        return CardError(READER_BUSY)
    log.info("PC/SC error %08X", code)  # a code, never data
    return CardError(CARD_MUTE)


def establish_context() -> int:
    """A new PC/SC context; SERVICE_GONE when pcscd is not there."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise card_error(hresult)
    return context


def _release(context: int) -> None:
    try:
        scard.SCardReleaseContext(context)
    except Exception:  # noqa: BLE001 (a dead service's context may not release cleanly)
        pass


def _list_readers(context: int) -> list[str]:
    hresult, readers = scard.SCardListReaders(context, [])
    if _u(hresult) == _u(scard.SCARD_E_NO_READERS_AVAILABLE):
        return []
    if hresult != scard.SCARD_S_SUCCESS:
        raise card_error(hresult)
    return list(readers)


def assign_slots(readers: list[str], slots: dict[str, str]) -> dict[str, str]:
    """Which real reader stands for each logical slot, in the slots' order.

    A slot's pattern is a case-insensitive part of the reader's name; an empty pattern takes
    the first reader not yet taken and not claimed by another slot's pattern.
    """
    taken: set[str] = set()
    result: dict[str, str] = {}
    for name, pattern in slots.items():
        others = [p.lower() for n, p in slots.items() if n != name and p]
        for reader in readers:
            lowered = reader.lower()
            if reader in taken:
                continue
            if pattern and pattern.lower() not in lowered:
                continue
            if not pattern and any(p in lowered for p in others):
                continue
            result[name] = reader
            taken.add(reader)
            break
    return result
