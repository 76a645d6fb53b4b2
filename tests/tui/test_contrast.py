"""WCAG AA contrast (issue 21): every text/background pair of proclient's theme, computed from
the variables Textual generates for it, and every character the screens of a creation draw.

Text needs 4.5:1 (1.4.3); a focus frame, a scrollbar, an arrow 3:1 (1.4.11). No text of the
app is large enough for the 3:1 of large text: the titles are bold at the terminal's one size.
Each pair is checked in colour and in the greys Textual draws with ``NO_COLOR`` (its
Monochrome filter: ``Color.monochrome``).

    .venv/bin/python -m pytest -q -s tests/tui/test_contrast.py   # prints the table
"""

from __future__ import annotations

import pytest
from textual.app import App

from proclient.screens.connect import ConnectScreen
from proclient.screens.consent import ConsentScreen
from proclient.screens.done import SecretsModal
from proclient.screens.home import HomeScreen
from proclient.screens.online_access import OnlineAccessScreen
from proclient.widgets.help import HelpModal
from proclient.widgets.theme import apply_theme
from tests.colour_support import AA_GRAPHICS, AA_TEXT, contrast, glyphs, paint
from tests.tui_support import SIZE, create, insert, wait_until

# What lies beneath the text, bottom first, as the screens' and Textual's CSS lay it.
SCREEN = ("$background",)
SURFACE = (*SCREEN, "$surface")  # lists, fields, tick boxes, modals
FOCUSED = (*SCREEN, ("$surface", "$foreground 5%"))  # Textual tints a focused widget
TOP_BAR = (*SCREEN, "$primary")
FOOTER = (*SCREEN, "$footer-background")
TOAST = (*SCREEN, "$panel-lighten-1")
PIN = (*SCREEN, "$boost")  # PinField
PIN_FOCUSED = (*SCREEN, "$accent 30%")

# (what the user reads, where the app draws it: its colour, what lies beneath, the minimum)
PAIRS = [
    ("text", "$foreground", SCREEN, AA_TEXT),
    ("hint (.hint)", "$text-muted", SCREEN, AA_TEXT),
    ("error line (#error, #lock-error)", "$error", SCREEN, AA_TEXT),
    ("warning (#secrets, #warning, #pin-status)", "$warning", SCREEN, AA_TEXT),
    ("success (#outcome)", "$success", SCREEN, AA_TEXT),
    ("top bar", "$text", TOP_BAR, AA_TEXT),
    ("top bar: DÉMONSTRATION", "$background", (*TOP_BAR, "$warning"), AA_TEXT),
    ("footer key", "$footer-key-foreground", FOOTER, AA_TEXT),
    ("footer description", "$footer-description-foreground", FOOTER, AA_TEXT),
    ("list, field, modal text", "$foreground", SURFACE, AA_TEXT),
    ("focused field text", "$foreground", FOCUSED, AA_TEXT),
    ("placeholder, closed list's prompt", "$text-muted", SURFACE, AA_TEXT),
    ("placeholder in the focused field", "$text-muted", FOCUSED, AA_TEXT),
    ("tick box unticked [ ]", "$foreground", SURFACE, AA_TEXT),
    ("tick box unticked [ ], focused", "$foreground", FOCUSED, AA_TEXT),
    ("tick box ticked [x]", "$text-success", SURFACE, AA_TEXT),
    ("tick box ticked [x], focused", "$text-success", FOCUSED, AA_TEXT),
    (
        "focused highlight (list row, tick box label)",
        "$block-cursor-foreground",
        (*FOCUSED, "$block-cursor-background"),
        AA_TEXT,
    ),
    (
        "highlighted row, list without focus",
        "$foreground",
        (*SURFACE, "$block-cursor-blurred-background"),
        AA_TEXT,
    ),
    ("input cursor", "$input-cursor-foreground", (*FOCUSED, "$input-cursor-background"), AA_TEXT),
    ("code porteur field", "$foreground", PIN, AA_TEXT),
    ("code porteur field, focused", "$foreground", PIN_FOCUSED, AA_TEXT),
    ("toast text", "$foreground", TOAST, AA_TEXT),
    ("toast title: information", "$text-success", TOAST, AA_TEXT),
    ("toast title: warning", "$text-warning", TOAST, AA_TEXT),
    ("toast title: error", "$text-error", TOAST, AA_TEXT),
    (
        "cursor with NO_COLOR (list row, tick box label)",
        "$background",
        (*FOCUSED, "$foreground"),
        AA_TEXT,
    ),
    ("focus frame of a list", "$border", SURFACE, AA_GRAPHICS),
    ("frame of the accusé's preview", "$foreground 45%", SCREEN, AA_GRAPHICS),
]


def theme_variables() -> dict[str, str]:
    """The CSS variables Textual generates for the App once proclient's theme is applied."""
    app = App()
    apply_theme(app)
    return app.get_css_variables()


def contrast_table(variables: dict[str, str]) -> list[tuple[str, str, str, float, float, float]]:
    """(pair, text colour, background, ratio in colour, ratio in NO_COLOR's greys, minimum)."""
    rows = []
    for what, text, beneath, minimum in PAIRS:
        background = paint(beneath, variables)
        foreground = paint((*beneath, text), variables)
        rows.append(
            (
                what,
                foreground.hex6,
                background.hex6,
                contrast(foreground, background),
                contrast(foreground.monochrome, background.monochrome),
                minimum,
            )
        )
    return rows


def format_table(rows) -> str:
    lines = [f"{'pair':48} {'text':8} {'on':8} {'ratio':>6} {'greys':>6} {'min':>4}"]
    for what, foreground, background, ratio, greys, minimum in rows:
        low = "  LOW" if min(ratio, greys) < minimum else ""
        lines.append(
            f"{what:48} {foreground} {background} {ratio:6.2f} {greys:6.2f} {minimum:4.1f}{low}"
        )
    return "\n".join(lines)


def test_every_text_colour_of_the_theme_meets_aa_in_colour_and_in_greys():
    rows = contrast_table(theme_variables())
    table = format_table(rows)
    print("\n" + table)
    assert all(min(ratio, greys) >= minimum for *_, ratio, greys, minimum in rows), table


# --- what the screens of a creation draw -------------------------------------------------------


def too_faint(app) -> list[str]:
    """Every run of characters of the screen on top drawn under its AA minimum (a disabled
    widget excepted: WCAG exempts what cannot be used)."""
    return [
        f"{type(app.screen).__name__}: {glyph}"
        for glyph in glyphs(app.screen)
        if glyph.ratio < glyph.minimum and not glyph.widget.disabled
    ]


@pytest.mark.slow
@pytest.mark.parametrize("colour", ["colour", "NO_COLOR"])
async def test_every_character_of_a_minors_creation_meets_aa(app_factory, monkeypatch, colour):
    """Home, help, the family card's list, the code porteur, the documents, the consent for a
    minor (error line, the representative's list and fields), the online access (a field
    focused), the summary, the accusé, the secrets, a toast: nothing under 4.5:1."""
    if colour == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    app = app_factory()
    faint: list[str] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:

        async def look() -> None:
            await pilot.pause()
            faint.extend(too_faint(app))

        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await look()
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpModal), what="help")
        await look()
        await pilot.press("escape")
        await insert(pilot, app, "durand")
        await look()  # the beneficiaries, the first highlighted
        await pilot.press("down", "enter")  # Léa, a minor
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        await look()  # the code porteur field, focused
        await pilot.press(*"1234", "enter")
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        await look()  # INSi's traits and the documents
        await pilot.press("enter", "f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        await pilot.press("f8")  # nothing ticked: the error line
        await wait_until(pilot, lambda: app.screen.query_one("#error").render(), what="error")
        await look()
        await pilot.press("space")
        app.screen.query_one("#relationship").focus()
        await look()  # the closed list's prompt, focused
        await pilot.press("enter")
        await look()  # the list open
        await pilot.press("down", "enter")
        app.screen.query_one("#rep_last").focus()
        await pilot.press(*"Durand", "tab", *"Sophie")
        await look()  # a field typed in, focused
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="online")
        await pilot.press("space", "tab")
        await look()  # the box ticked, the empty e-mail field focused with its placeholder
        await pilot.press(*"sophie.durand@exemple.fr", "f8")
        await wait_until(pilot, lambda: app.flow.web_access is not None, what="summary")
        await look()
        await create(pilot, app)
        app.notify("Imprimante injoignable", severity="error", timeout=30)
        app.notify("Accusé enregistré", timeout=30)
        await look()  # the accusé, the secrets' warning, two toasts
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, SecretsModal), what="secrets")
        await look()
    assert not faint, "\n".join(dict.fromkeys(faint))
