"""The accusé saved after a demo creation in the TUI is the signed one: the demo's CPS (a
SoftHSM2 token when SoftHSM2 is installed, else the software key) signed it in the worker that
made it, with the code given at step 2, and it verifies against the demo CA."""

from __future__ import annotations

import asyncio

from cryptography import x509

from proclient.receipts.verification import verify_pdf
from tests.tui_support import SIZE, create_for, pdf_text


async def test_the_accuse_saved_after_a_creation_is_signed_and_verifies(app_factory, settings):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        done = await create_for(pilot, app, "legoff")
        credential = app.session.credential
        saved = done.receipt_path.read_bytes()
        text = " ".join(pdf_text(done.receipt_path).split())
    ca = x509.load_pem_x509_certificate(
        (settings.paths.demo_dir / "demo-pki" / "ca.pem").read_bytes()
    )
    verdict = await asyncio.to_thread(verify_pdf, saved, [ca])  # pyHanko runs its own loop
    assert verdict.outcome == "valid", verdict
    assert verdict.details["id_nat"] == credential.professional.id_nat
    assert "Accusé signé électroniquement par Claire MARTIN" in text
    assert app.paper.signed
