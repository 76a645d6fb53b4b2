"""A run with ``NO_COLOR=1`` (issue 12): every choice of the flow reads in words or distinct
glyphs, never in colour alone — the document seen at step 2, the consent and the two emergency
accesses at step 3, the online access at step 4."""

from __future__ import annotations

import re

from proclient.screens.consent import ConsentScreen
from proclient.screens.online_access import OnlineAccessScreen
from tests.tui_support import choose_document, connect, insert, screen_text, wait_until

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
