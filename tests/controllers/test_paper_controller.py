"""The accusé on screen stays the one ``issue`` made: an accusé filed meanwhile from the outbox
(``file_receipt``, in another thread, for another patient) changes neither what F5 prints nor
whether the accusé on screen says it is signed. Real rendering and signing (the demo's
software key); only the printer is replaced, to see the bytes it would get."""

from __future__ import annotations

from pathlib import Path

import pytest

from proclient.controllers.paper import PaperController
from proclient.core.records import CreationResult
from proclient.credentials.software import unlock_demo
from proclient.receipts import printing
from proclient.server.demo import ensure_demo_pki
from tests.receipts.receipt_samples import make_receipt, pdf_text, squash


@pytest.fixture
def credential(demo_pki_cache: Path):
    return unlock_demo(ensure_demo_pki(demo_pki_cache).default)


@pytest.fixture
def printed(monkeypatch) -> list[bytes]:
    jobs: list[bytes] = []

    def print_pdf(pdf: bytes, printer: str | None = None, **_options) -> str:
        jobs.append(pdf)
        return f"job-{len(jobs)}"

    monkeypatch.setattr(printing, "print_pdf", print_pdf)
    return jobs


def _result(receipt) -> CreationResult:
    return CreationResult(receipt.request.action, receipt.dmp_id, receipt.at)


def _issue_unsaved(paper: PaperController, receipts: Path, receipt, credential) -> None:
    """``issue`` while the receipts folder cannot be made (a file in its place), then the
    folder possible again for what comes next."""
    receipts.write_text("")
    _preview, error = paper.issue(receipt, _result(receipt), credential)
    assert "n'a pas pu être enregistré" in error and paper.receipt_path is None
    receipts.unlink()


def test_an_accuse_filed_meanwhile_does_not_replace_the_signed_one_on_screen(
    credential, printed, tmp_path
):
    receipts = tmp_path / "receipts"
    paper = PaperController(receipts, "a4")
    _issue_unsaved(paper, receipts, make_receipt("le_goff"), credential)
    assert paper.signed

    path, job = paper.file_receipt(make_receipt("okafor"), None)  # unsigned, another patient
    assert "OKAFOR" in squash(pdf_text(path.read_bytes())) and job == ""

    assert paper.signed
    assert paper.print_receipt() == "job-1"
    text = squash(pdf_text(printed[0]))
    assert "LE GOFF" in text and "OKAFOR" not in text
    assert "signé électroniquement par" in text and "non signé" not in text


def test_a_signed_accuse_filed_meanwhile_does_not_make_the_one_on_screen_signed(
    credential, printed, tmp_path
):
    receipts = tmp_path / "receipts"
    paper = PaperController(receipts, "a4")
    _issue_unsaved(paper, receipts, make_receipt("le_goff"), None)  # e-CPS: unsigned
    assert not paper.signed

    path, _job = paper.file_receipt(make_receipt("okafor"), credential)
    assert "signé électroniquement par" in squash(pdf_text(path.read_bytes()))

    assert not paper.signed
    paper.print_receipt()
    text = squash(pdf_text(printed[0]))
    assert "LE GOFF" in text and "OKAFOR" not in text
    assert "non signé électroniquement" in text
