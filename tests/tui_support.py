"""What the pilot tests share: waiting, reading the screen as text, the flow by keyboard.

Nothing here reads Textual's private state: the screen's text comes from the public
``export_screenshot()`` (the SVG a user would save), the notifications from the App's public
``notify`` seen on their way.
"""

from __future__ import annotations

import html
import io
import os
import re
import time
from pathlib import Path

from pypdf import PdfReader

SIZE = (110, 45)

_TEXT = re.compile(r'<text [^>]*clip-path="url\(#[^)]*-line-(\d+)\)"[^>]*>(.*?)</text>', re.S)


def screen_text(app) -> str:
    """What the terminal shows, line by line (modals and toasts included)."""
    svg = app.export_screenshot()
    lines: dict[int, list[str]] = {}
    for number, content in _TEXT.findall(svg):
        lines.setdefault(int(number), []).append(html.unescape(content).replace("\xa0", " "))
    return "\n".join("".join(lines[n]) for n in sorted(lines))


def record_notices(app) -> list[str]:
    """Keep the text of every notification the App shows (``app.notices``)."""
    notices: list[str] = []
    show = app.notify

    def notify(message, *args, **kwargs):
        notices.append(str(message))
        return show(message, *args, **kwargs)

    app.notify = notify
    app.notices = notices
    return notices


def notified(app, words: str) -> bool:
    return any(words in notice for notice in app.notices)


async def wait_until(pilot, predicate, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.05)
    # Let the new state reach the screen (compose, layout, first frame) before callers look.
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def pdf_text(path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def files_containing(needle: bytes, root: Path, since: float) -> list[Path]:
    """Files under ``root`` written since ``since`` that contain ``needle``."""
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            try:
                if path.stat().st_mtime >= since and needle in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


# --- the flow by keyboard -----------------------------------------------------------------------


async def insert(pilot, app, key: str) -> None:
    from proclient.screens.identify import IdentifyScreen

    await wait_until(pilot, lambda: app.creation.binding is not None, what="service ready")
    app.routes.cards.insert_demo_card(key)
    await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen), what="identify")


async def connect(pilot, app, pin: str = "1234", document: int | None = 0) -> None:
    """Step 2 by keyboard: the code porteur, INSi's answer, the document seen (``document``:
    its place in the list, arrows then Enter; None: leave it unchosen), the status."""
    from proclient.screens.connect import ConnectScreen

    await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
    if not app.session.authenticated:
        await pilot.press(*pin, "enter")
    await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
    active = app.flow.dmp_state.status.value == "active"  # nothing to create: no document asked
    if document is not None and app.flow.identity.status is None and not active:
        await choose_document(pilot, app, document)


async def choose_document(pilot, app, index: int = 0) -> None:
    """Arrows down to the ``index``-th document offered, then Enter."""
    await pilot.press(*(["down"] * index), "enter")
    await wait_until(pilot, lambda: app.flow.identity.status is not None, what="document")


async def through_consent_and_online(pilot, app, *, refuse_samu=False, email="", mobile=""):
    from proclient.screens.consent import ConsentScreen
    from proclient.screens.online_access import OnlineAccessScreen
    from proclient.screens.summary import SummaryScreen

    await pilot.press("f8")
    await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
    await pilot.press("space")  # the creation consent, focused first, unchecked by default
    if refuse_samu:
        await pilot.press("tab", "space")
    await pilot.press("f8")
    await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="online")
    if email or mobile:
        await pilot.press("space", "tab")  # tick the box, then Tab to the email field
        await pilot.press(*email, "tab", *mobile)
    await pilot.press("f8")
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="summary")


async def create_for(pilot, app, key: str, **online):
    """The whole flow for a single-beneficiary demo card, consent given, down to the accusé."""
    await insert(pilot, app, key)
    await pilot.press("enter")
    await connect(pilot, app)
    await through_consent_and_online(pilot, app, **online)
    return await create(pilot, app)


async def create(pilot, app):
    from proclient.screens.done import DoneScreen

    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, DoneScreen), what="done")
    return app.screen


async def minor_to_online(pilot, app) -> None:
    """From step 2 (document chosen) to step 4 for a minor: consent given by the legal
    representative (typed: MOREAU Julie, mother)."""
    from proclient.screens.consent import ConsentScreen
    from proclient.screens.online_access import OnlineAccessScreen

    await pilot.press("f8")
    await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
    await pilot.press("space")
    app.screen.query_one("#relationship").value = "MTH"
    app.screen.query_one("#rep_last").focus()
    await pilot.press(*"Moreau", "tab", *"Julie", "f8")
    await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="online")


async def minor_to_summary(pilot, app) -> None:
    """From step 2 (document chosen) to the summary for a minor: consent given by the legal
    representative (typed: MOREAU Julie, mother), no online access."""
    from proclient.screens.summary import SummaryScreen

    await minor_to_online(pilot, app)
    await pilot.press("f8")
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="summary")
