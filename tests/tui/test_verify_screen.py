"""« Vérifier un accusé » at the counter: the accusé's 2D code typed as a keyboard-wedge
scanner types it (every character, then Enter), on the demo's real parts: the code comes from
a DMP the embedded service just created and signed, read back from the saved PDF."""

from __future__ import annotations

import io
import sys
import zlib
from pathlib import Path

import base45
from pypdf import PdfReader

from proclient.core.proof.statement import PREFIX
from proclient.screens.home import HomeScreen
from proclient.screens.verify import VerifyScreen
from tests.tui_support import SIZE, create_for, screen_text, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))
from key_burst import key_event  # noqa: E402


def _verdict(app) -> str:
    return str(app.screen.query_one("#verdict").render())


def _with_signed_part_changed(code: str) -> str:
    """The code with one digit of the signed professional id changed, zlib and base45 done
    again (a character changed in the printed code mostly breaks zlib's checksum: that reads
    as unreadable, not as altered)."""
    raw = zlib.decompress(base45.b45decode(code[len(PREFIX) :]))
    forged = raw.replace(b"899700024450", b"899700024451", 1)
    assert forged != raw
    return PREFIX + base45.b45encode(zlib.compress(forged, 9)).decode("ascii")


async def scan(pilot, app, code: str) -> None:
    """As a keyboard-wedge scanner: every character a key, then Enter, in one burst (a scanner
    types faster than any screen refresh; the pilot's press, waiting for idle after each key,
    took 20 s for a code)."""
    for key in [*({" ": "space"}.get(c, c) for c in code), "enter"]:
        app.post_message(key_event(key))


async def paste(pilot, app, code: str) -> None:
    """As a paste: the whole text at once, then Enter."""
    app.screen.query_one("#code").value = code
    await pilot.press("enter")


async def test_a_scanned_code_says_what_the_accuse_asserts_and_a_changed_one_is_refused(
    app_factory,
):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        done = await create_for(pilot, app, "legoff")
        code = PdfReader(io.BytesIO(done.receipt_path.read_bytes())).metadata["/ProclientStatement"]
        await pilot.press("enter")  # next patient: home
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, VerifyScreen), what="verify")
        await scan(pilot, app, code)
        await wait_until(pilot, lambda: "Code valide" in _verdict(app), what="valid")
        text = _verdict(app)
        assert "création du DMP" in text and "899700024450" in text
        assert "LE GOFF" not in screen_text(app)  # initials only, never the name
        assert app.screen.query_one("#code").value == ""  # ready for the next scan
        # one character changed in the signed part (the professional's id), the code rebuilt
        # around the old signature: refused, and said why
        await paste(pilot, app, _with_signed_part_changed(code))
        await wait_until(pilot, lambda: "Code modifié" in _verdict(app), what="refused")
        # not a code at all: its own sentence (not the altered code's, still on screen)
        await paste(pilot, app, "n'importe quoi")
        await wait_until(pilot, lambda: "Code illisible" in _verdict(app), what="garbage")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home again")
