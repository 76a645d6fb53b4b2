"""The done screen's accusé carries the service's signed code: a whole creation in the TUI
on the demo (embedded service, demo Vitale card, demo CPS), the saved PDF's 2D code decoded
from its rendered page and its /ProclientStatement entry, both the statement the demo
service signed, which `proclient verify --demo` trusts."""

from __future__ import annotations

import io

import pypdfium2
import zxingcpp
from pypdf import PdfReader

from proclient.core.proof.statement import PREFIX, verify_code
from proclient.server.signing_key import BUNDLE_NAME, FOLDER_NAME, read_certificates
from tests.tui_support import SIZE, create_for


async def test_the_accuse_of_the_done_screen_carries_the_signed_code(app_factory, settings):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        done = await create_for(pilot, app, "legoff")
        pdf = done.receipt_path.read_bytes()
    page = pypdfium2.PdfDocument(pdf)[0].render(scale=200 / 72).to_pil()
    codes = [r.text for r in zxingcpp.read_barcodes(page) if r.text.startswith(PREFIX)]
    assert len(codes) == 1
    assert PdfReader(io.BytesIO(pdf)).metadata["/ProclientStatement"] == codes[0]
    trusted = read_certificates(settings.paths.demo_dir / FOLDER_NAME / BUNDLE_NAME)
    verdict = verify_code(codes[0], trusted)
    assert verdict.outcome == "valid", verdict.sentence
    assert verdict.details["initials"] == "GL" and verdict.details["kind"] == "creation"
    assert verdict.details["professional_id"] == "899700024450"
