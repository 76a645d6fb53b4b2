"""The ATRs proclient knows, in one place: what the emulators answer and what the reader
recognises (DOMAIN.md §3).

Pure data: importing it loads no card stack.
"""

from __future__ import annotations

# A Carte Vitale 2 (one ATR of the family card_type_from_atr recognises by pattern).
VITALE2_ATR = bytes.fromhex("3B751300004409EA9000")
# Only the prefix 3F 65 25 00 is documented; the historical bytes here are placeholders.
VITALE1_ATR = bytes.fromhex("3F6525000000009000")
# The professional cards (CPS3, CPS4): recognised by their exact ATR.
CPS3_ATR = bytes.fromhex("3BAC00402A001225006480000310009000")
CPS4_ATR = bytes.fromhex("3B9B188001001225006480040100009044")
CPS_ATRS = frozenset({CPS3_ATR, CPS4_ATR})
