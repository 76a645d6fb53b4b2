"""A minimal professional card (CPS3 or CPS4) for the professional slot and the wrong-card cases.

Only the ATR matters to proclient: a real CPS is used through PKCS#11 (DOMAIN.md §3), never
read APDU by APDU here. The card answers SELECT of the MF and refuses everything else, as a
card without the Vitale application would.
"""

from __future__ import annotations

from proclient.cardreader.atr import CPS3_ATR, CPS4_ATR

SW_OK = b"\x90\x00"
SW_FILE_NOT_FOUND = b"\x6a\x82"
SW_UNKNOWN_INS = b"\x6d\x00"


class CpsEmulator:
    """A CPS3 (default) or CPS4 card: the right ATR, and a refusal for anything but the MF."""

    def __init__(self, generation: int = 3) -> None:
        if generation not in (3, 4):
            raise ValueError("CPS3 or CPS4")
        self._atr = CPS3_ATR if generation == 3 else CPS4_ATR
        self.apdu_count = 0

    @property
    def atr(self) -> bytes:
        return self._atr

    def reset(self) -> None:
        """Power-on: nothing to forget."""

    def process(self, apdu: bytes) -> bytes:
        self.apdu_count += 1
        apdu = bytes(apdu)
        if len(apdu) < 4:
            return b"\x67\x00"
        if apdu[1] == 0xA4:
            return SW_OK if apdu[5:7] == b"\x3f\x00" else SW_FILE_NOT_FOUND
        return SW_UNKNOWN_INS
