"""A run with ``NO_COLOR=1`` (issue 12): every choice of the flow reads in words or distinct
glyphs, never in colour alone — the document seen at step 2, the consent and the two emergency
accesses at step 3, the online access at step 4. Issue 21: those glyphs and the focus are
drawn where a terminal without colour shows them (contrast in greys, attributes)."""

from __future__ import annotations

import re

import pytest

from proclient.screens.connect import ConnectScreen, PinField
from proclient.screens.consent import ConsentScreen
from proclient.screens.online_access import OnlineAccessScreen
from proclient.widgets.tickbox import TICKED, UNTICKED
from tests.colour_support import AA_TEXT, line_glyphs, luminance, without_colour
from tests.tui_support import choose_document, connect, insert, screen_text, wait_until

pytestmark = pytest.mark.slow  # the longest tier: scripts/test.sh -m "not slow" leaves it out

COUNTER = (80, 24)


async def test_every_choice_reads_without_colour(app_factory, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")  # Textual honours it: no colour at all
    app = app_factory()
    async with app.run_test(size=COUNTER) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app, document=None)

        # Step 2: the document seen, none chosen yet, then the passport.
        text = screen_text(app)
        assert "( ) Passeport" in text and "(•)" not in text
        await choose_document(pilot, app, 0)
        text = screen_text(app)
        assert "(•) Passeport" in text
        assert "( ) Carte nationale d'identité" in text

        # Step 3: the consent never ticked in advance, the emergency accesses in words.
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        text = screen_text(app)
        assert re.search(r"\[ \]\s*Le patient consent", text)
        assert re.search(r"\[x\]\s*Médecin régulateur du SAMU \(centre 15\) : autorisé", text)
        assert re.search(r"\[x\]\s*Bris de glace[^\[]*:\s*autorisé", text)
        await pilot.press("space", "tab", "tab", "space")  # consent given, break-glass refused
        await pilot.pause()
        text = screen_text(app)
        assert re.search(r"\[x\]\s*Le patient consent", text)
        assert re.search(r"\[x\]\s*Médecin régulateur du SAMU \(centre 15\) : autorisé", text)
        assert re.search(r"\[ \]\s*Bris de glace[^\[]*:\s*refusé", text)

        # Step 4: the online access, unticked then ticked, its fields labelled.
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="web")
        assert re.search(r"\[ \]\s*Ouvrir un accès en ligne", screen_text(app))
        await pilot.press("space")
        await pilot.pause()
        text = screen_text(app)
        assert re.search(r"\[x\]\s*Ouvrir un accès en ligne", text)
        assert "E-mail" in text and "Mobile" in text
        assert "▐X▌" not in text  # the old boxes, the same ticked or not without colour


# --- issue 21: states that read without colour, drawn where they can be seen --------------------

BOLD, UNDERLINE = 0, 1


def attribute(cells, index: int) -> set[bool]:
    """The values an attribute (BOLD, UNDERLINE) takes over a line's characters."""
    return {attributes[index] for character, attributes in cells if not character.isspace()}


def written(widget, y: int) -> list:
    """The runs of characters of a widget's line that are not its frame."""
    return [glyph for glyph in line_glyphs(widget, y) if glyph.minimum == AA_TEXT]


def inverse(glyph) -> bool:
    """Dark text on a light bar."""
    return luminance(glyph.background) > luminance(glyph.foreground)


async def test_unticked_box_and_focused_widgets_are_seen_without_colour(app_factory, monkeypatch):
    """With NO_COLOR, Textual draws in greys: the unticked « [ ] » is drawn at AA contrast (it
    was black on black); the highlighted row of the focused list and the focused tick box's
    label are bold on a light bar, the other rows and labels not; a focused field (the code
    porteur's too) is underlined across its width (before, only the blinking cursor told it),
    another not."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_factory()
    async with app.run_test(size=COUNTER) as pilot:
        await insert(pilot, app, "durand")
        rows = app.screen.query_one("#beneficiaries")
        sophie, lea = written(rows, 1)[0], written(rows, 3)[0]  # row 0: the frame
        assert sophie.text.startswith("DURAND Sophie") and lea.text.startswith("DURAND Léa")
        assert sophie.style.bold and inverse(sophie) and sophie.ratio >= AA_TEXT, sophie
        assert not lea.style.bold and not inverse(lea), lea

        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        code = app.screen.query_one(PinField)
        assert code.has_focus and attribute(without_colour(code), UNDERLINE) == {True}
        await connect(pilot, app)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        consent, samu = app.screen.query_one("#creation"), app.screen.query_one("#samu")
        box, label = written(consent, 0)[:2]
        assert box.text.strip() == UNTICKED and box.ratio >= AA_TEXT, box
        assert box.foreground == box.foreground.monochrome  # drawn in greys: NO_COLOR applies
        assert label.style.bold and inverse(label), label  # focused
        samu_box, samu_label = written(samu, 0)[:2]
        assert samu_box.text.strip() == TICKED and samu_box.ratio >= AA_TEXT, samu_box
        assert not samu_label.style.bold and not inverse(samu_label), samu_label

        await pilot.press("space", "f8")
        await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="web")
        await pilot.press("space", "tab")  # the box ticked, then the e-mail field
        email, mobile = app.screen.query_one("#email"), app.screen.query_one("#mobile")
        assert email.has_focus
        assert attribute(without_colour(email), UNDERLINE) == {True}
        assert attribute(without_colour(mobile), UNDERLINE) == {False}
        await pilot.press("tab")
        await pilot.pause()
        assert attribute(without_colour(email), UNDERLINE) == {False}
        assert attribute(without_colour(mobile), UNDERLINE) == {True}
