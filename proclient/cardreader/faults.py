"""Misbehaving cards for the fault tests and ``proclient virtual-card --fault``.

Each wraps a well-behaved card (usually a VitaleEmulator) and spoils one thing, so that a
test can show what the reader stack does with it: garbage answers, truncated files.
"""

from __future__ import annotations

import random

from proclient.cardreader.emulator import VitaleEmulator, encode_identities, encode_nirs
from proclient.cardreader.virtual import VirtualCard


class GarbageCard:
    """Answers the ``at``-th APDU (1-based) and every later one with random bytes + 9000."""

    def __init__(self, card: VirtualCard, at: int = 2, seed: int = 0) -> None:
        self.card = card
        self.at = at
        self.apdu_count = 0
        self._random = random.Random(seed)

    @property
    def atr(self) -> bytes:
        return self.card.atr

    def reset(self) -> None:
        reset = getattr(self.card, "reset", None)
        if callable(reset):
            reset()

    def process(self, apdu: bytes) -> bytes:
        self.apdu_count += 1
        answer = self.card.process(apdu)
        if self.apdu_count < self.at:
            return answer
        size = self._random.randint(1, 200)
        return self._random.randbytes(size) + b"\x90\x00"


def truncated_card(key: str, cut: int = 5, *, in_nir_file: bool = False) -> VitaleEmulator:
    """A demo card whose identity file (or NIR file) lost its last ``cut`` bytes."""
    from proclient.cardreader.demo_cards import demo_card

    card = demo_card(key)
    identities = encode_identities(card.beneficiaries, card.validity_start)
    nirs = encode_nirs(card.beneficiaries)
    if in_nir_file:
        nirs = nirs[:-cut]
    else:
        identities = identities[:-cut]
    return VitaleEmulator(identities, nirs)
