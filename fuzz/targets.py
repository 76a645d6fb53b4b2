"""Fuzz targets shared by the hypothesis tests (tests/pcsc/test_fuzz.py) and atheris (fuzz/).

Each target takes arbitrary bytes and may raise only CardError: anything else is a bug.
"""

from __future__ import annotations

from proclient.cardreader.apdu import T0Transport
from proclient.cardreader.errors import CardError
from proclient.cardreader.vitale import parse_identities, parse_nirs, read_vitale

VITALE2_ATR = bytes.fromhex("3B751300004409EA9000")


class ScriptedCard:
    """A card whose answers come from the fuzzer's bytes: each answer is one length byte
    (0..255) and that many bytes (data + SW); the script running out means a pulled card."""

    def __init__(self, script: bytes) -> None:
        self.script = script
        self.sent = 0
        self.atr = VITALE2_ATR

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent += 1
        if self.sent > 200:
            raise AssertionError("the transport never stopped talking to the card")
        if not self.script:
            raise CardError("CARD_REMOVED")
        size, self.script = self.script[0], self.script[1:]
        answer, self.script = self.script[:size], self.script[size:]
        if len(answer) < 2:
            raise CardError("MALFORMED")
        return answer[:-2], int.from_bytes(answer[-2:], "big")

    def disconnect(self) -> None:
        pass


def parsers(data: bytes) -> None:
    """The Vitale file parsers on arbitrary file contents."""
    for parse in (parse_identities, parse_nirs):
        try:
            result = parse(data)
        except CardError:
            continue
        assert isinstance(result, list)


def transport(data: bytes) -> None:
    """T=0 handling (61xx, 6Cxx) on arbitrary answers, bounded in exchanges."""
    card = ScriptedCard(data)
    try:
        T0Transport(card).transmit(bytes.fromhex("00B0820000"))
    except CardError:
        pass
    assert card.sent <= 2 * 17 + 1


def whole_read(data: bytes) -> None:
    """A whole Vitale read against a card answering with the fuzzer's bytes."""
    try:
        card = read_vitale(ScriptedCard(data))
    except CardError:
        return
    assert card.beneficiaries
