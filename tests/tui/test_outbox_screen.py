"""The outbox screen (F7) on the real App: two patients recorded in the same minute by the
same pharmacist are two distinct rows (initials, birth year, capture second) in columns
under their headers, and the list shows no name, no birth date and no NIR."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from proclient.core.clock import paris_time
from proclient.core.domain import BirthDate, Consent, IdentitySource, Sex, format_nir
from proclient.core.identity import Document, HeldIdentity
from proclient.outbox.entry import capture
from proclient.screens.home import HomeScreen
from tests.tui_support import SIZE, screen_text, wait_until

_TEXT = re.compile(
    r'<text [^>]*x="([\d.]+)"[^>]*clip-path="url\(#[^)]*-line-(\d+)\)"[^>]*>(.*?)</text>', re.S
)
CELL = 12.2
"""The width of one terminal cell in Textual's SVG screenshots (20 px font × 0.61)."""


def screen_grid(app) -> list[str]:
    """The screen as lines of characters, each text put at its own column (screen_text
    joins a line's texts end to end, which hides the gaps between columns)."""
    rows: dict[int, list[str]] = {}
    for x, number, content in _TEXT.findall(app.export_screenshot()):
        row = rows.setdefault(int(number), [])
        column = round(float(x) / CELL)
        for offset, char in enumerate(html.unescape(content).replace("\xa0", " ").rstrip("\n")):
            while len(row) <= column + offset:
                row.append(" ")
            row[column + offset] = char
    return ["".join(rows[n]) for n in sorted(rows)]


def _card(last: str, first: str, born: str, nir: str, sex: Sex) -> HeldIdentity:
    return HeldIdentity(last, first, BirthDate(born), sex, nir, IdentitySource.CARD, 1)


PATIENTS = (
    _card("LE GOFF", "Gérard", "19520314", "152033523804587", Sex.MALE),
    _card("CASANOVA-ORSINI", "Marie-Ange", "19910905", "291092A00401281", Sex.FEMALE),
)
TRACES = ("LE GOFF", "Gérard", "CASANOVA", "Marie-Ange", "14/03/1952", "05/09/1991")
TRACES += tuple(nir for held in PATIENTS for nir in (held.nir, format_nir(held.nir)))


async def test_two_patients_recorded_the_same_minute_are_two_aligned_rows(app_factory, settings):
    from proclient.credentials.software import unlock_demo
    from proclient.screens.outbox import OutboxScreen
    from proclient.server.demo import ensure_demo_pki

    def cut(wiring):
        wiring.network.cut = True  # nothing leaves: the entries stay listed

    app = app_factory(cut)  # the demo PKI copied into the home first
    credential = unlock_demo(ensure_demo_pki(settings.paths.demo_dir / "demo-pki").default)
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    times = (minute + timedelta(seconds=5), minute + timedelta(seconds=40))
    for held, at in zip(PATIENTS, times, strict=True):
        entry = capture(held, Document.ID_CARD, Consent(creation=True), None, credential, now=at)
        app.outbox.outbox.put(entry)

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await wait_until(pilot, lambda: app.outbox.pending == 2, what="count read")
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen), what="outbox")
        await wait_until(pilot, lambda: "C. M. 1991" in screen_text(app), what="listed")
        grid = screen_grid(app)

    text = "\n".join(grid)
    for trace in TRACES:
        assert trace not in text, trace
    header = next(line for line in grid if "Enregistrée le" in line)
    rows = [line for line in grid if "899700024450" in line]
    assert len(rows) == 2 and rows[0].strip() != rows[1].strip()
    for row, mask, at in zip(rows, ("L. G. 1952", "C. M. 1991"), times, strict=True):
        when = paris_time(at).strftime("%d/%m %H:%M:%S")
        assert row.index(when) == header.index("Enregistrée le"), (header, row)
        assert row.index(mask) == header.index("Patient"), (header, row)
        assert row.index("899700024450") == header.index("Par"), (header, row)
        assert row.index("en attente") == header.index("État — raison"), (header, row)
