"""The bundled DejaVu fonts: present, licensed, registered once, covering French text."""

from __future__ import annotations

import pytest
from reportlab.pdfbase import pdfmetrics

from proclient.receipts import fonts

FRENCH = "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆß«»€—’•"


def test_fonts_and_licence_ship_with_the_package():
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono-Bold.ttf"):
        assert (fonts.FONT_DIR / name).stat().st_size > 100_000
    licence = (fonts.FONT_DIR / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream" in licence and "Permission is hereby granted" in licence


def test_registration_is_idempotent():
    fonts.register_fonts()
    first = pdfmetrics.getFont(fonts.REGULAR)
    fonts.register_fonts()
    assert pdfmetrics.getFont(fonts.REGULAR) is first


@pytest.mark.parametrize("name", [fonts.REGULAR, fonts.BOLD, fonts.MONO_BOLD])
def test_every_french_character_has_a_glyph(name):
    fonts.register_fonts()
    face = pdfmetrics.getFont(name).face
    missing = [ch for ch in FRENCH if ord(ch) not in face.charToGlyph]
    assert missing == []
