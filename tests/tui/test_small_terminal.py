"""Down to 60×20 (issue 21, point 3): every field of a minor's consent, of online access and
of step 2 is in view when it has the focus, a list to choose from opens inside the screen
above the footer, and the step's title is not cut."""

from __future__ import annotations

import pytest

from proclient.screens.consent import ConsentScreen
from tests.tui_support import connect, insert, minor_to_online, screen_text, wait_until

SMALL = (60, 20)


def in_view(app, widget) -> bool:
    """The widget's whole region inside the screen's scrolled body."""
    body = app.screen.query_one("#body")
    region = widget.region
    return region.height > 0 and body.region.contains_region(region)


@pytest.mark.slow
async def test_every_field_of_a_minors_consent_is_in_view_when_focused_at_60x20(app_factory):
    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await insert(pilot, app, "durand")
        await pilot.press("down", "enter")  # Léa, a minor
        await connect(pilot, app, document=None)
        documents = app.screen.query_one("#documents")
        for _ in range(documents.option_count):  # step 2: the highlighted document in view
            await pilot.press("down")
            await pilot.pause(0.1)
            assert in_view(app, documents), documents.highlighted
        await pilot.press("up", "up", "enter", "f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        assert "Étape 3/4 — Consentement du patient" in screen_text(app)
        seen = set()
        for _ in range(6):
            await pilot.press("tab")
            await pilot.pause(0.1)
            focused = app.focused
            if focused.id:
                assert in_view(app, focused), focused.id
                seen.add(focused.id)
        assert {"relationship", "rep_last", "rep_first"} <= seen

        app.screen.query_one("#relationship").focus()
        await pilot.pause(0.1)
        await pilot.press("enter")  # the « Lien » list opens…
        await pilot.pause(0.2)
        overlay = app.screen.query_one("SelectOverlay")
        footer = app.screen.query_one("KeyFooter")
        assert overlay.region.bottom <= footer.region.y  # …above the footer, inside the screen


@pytest.mark.slow
async def test_online_access_fields_are_in_view_at_60x20(app_factory):

    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await insert(pilot, app, "durand")
        await pilot.press("down", "enter")
        await connect(pilot, app)
        await minor_to_online(pilot, app)
        await pilot.press("space")
        for name in ("email", "mobile"):
            await pilot.press("tab")
            await pilot.pause(0.1)
            assert app.focused.id == name and in_view(app, app.focused), name


async def test_a_name_pasted_too_long_stops_at_the_services_limit_and_names_the_field(
    app_factory,
):
    """Issue 21 point 9: 10,000 characters pasted into a name: the field keeps the service's
    100 and says which field, instead of « La demande est incomplète ou mal formée »."""
    from textual import events

    from proclient.core.domain import NAME_MAX

    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None, what="service")
        await pilot.press("f6")  # typed identity
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ManualEntryScreen")
        field = app.screen.query_one("#last_name")
        field.focus()
        await pilot.pause()
        field.post_message(events.Paste("DURAND" * 2000))
        await pilot.pause(0.2)
        assert len(field.value) == NAME_MAX
        assert "« Nom de naissance » : 100 caractères au plus" in screen_text(app)
