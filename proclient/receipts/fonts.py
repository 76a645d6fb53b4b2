"""DejaVu fonts, embedded in every PDF so that accents, œ and ß print everywhere.

The TrueType files ship in ``fonts/`` with their licence (LICENSE-DejaVu.txt). They are
registered with reportlab once, on first use: importing this module costs nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path

FONT_DIR = Path(__file__).parent / "fonts"

REGULAR = "ProclientSans"
BOLD = "ProclientSans-Bold"
MONO_BOLD = "ProclientMono-Bold"

_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    MONO_BOLD: "DejaVuSansMono-Bold.ttf",
}

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register the three fonts and the Sans family (so ``<b>`` works in paragraphs)."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        for name, filename in _FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
        # No italic face: italic maps to upright. Upright mappings go last, as the last
        # mapping of a font name decides what reportlab believes that font is.
        addMapping(REGULAR, 0, 1, REGULAR)
        addMapping(REGULAR, 1, 1, BOLD)
        addMapping(REGULAR, 0, 0, REGULAR)
        addMapping(REGULAR, 1, 0, BOLD)
        _registered = True
