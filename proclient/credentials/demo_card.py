"""The demo's CPS in the virtual professional reader: presence only.

In the demo the CPS's key lives in a SoftHSM2 token (or the software credential's files);
this virtual card stands in the professional reader so that taking it out (F4) closes the
session exactly as pulling a real CPS does. It answers APDUs with "instruction not
supported": nothing talks APDUs to a CPS here, PKCS#11 does.
"""

from __future__ import annotations

CPS3_ATR = bytes.fromhex("3BAC00402A001225006480000310009000")


class DemoCpsCard:
    @property
    def atr(self) -> bytes:
        return CPS3_ATR

    def process(self, apdu: bytes) -> bytes:
        return bytes.fromhex("6D00")
