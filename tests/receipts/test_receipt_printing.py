"""Printing through the real CUPS (cups-pdf queue): both formats, errors in French, and no
copy of the initial password left anywhere once the patient has taken the paper."""

from __future__ import annotations

import io
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest
from cups_support import (
    ascii_fold,
    files_holding,
    pdf_file_text,
    printed_file,
    require_cups,
    wait_for_job,
)
from receipt_samples import SECRETS, make_receipt

from proclient.core.domain import DomainError, format_nir
from proclient.receipts.pdf import render_receipt, render_secrets
from proclient.receipts.printing import list_printers, print_pdf, printer_choice
from proclient.server.operations import new_password

SPOOL = Path("/var/spool/cups")


def pdf_text_lines(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [
        line
        for page in PdfReader(io.BytesIO(pdf)).pages
        for line in page.extract_text().splitlines()
    ]


@pytest.fixture
def cups():
    return require_cups()


@pytest.mark.parametrize("page", ["a4", "80mm"])
def test_accuse_printed_through_cups_reads_back(cups, page):
    printer, out = cups
    receipt = make_receipt("casanova")
    pdf = render_receipt(receipt, page)
    job = print_pdf(pdf, printer)
    assert job.startswith(f"{printer}-")
    wait_for_job(job)
    printed = printed_file(out, job)
    try:
        text = pdf_file_text(printed)
        for value in (
            "CASANOVA-ORSINI",
            "MARIE-ANGE",  # INSi's traits, not the card's spelling
            format_nir(receipt.patient.ins.value),
            "1.2.250.1.213.1.4.10",
            "DMP-000002",
            "899700024450",
            "m***@exemple.fr",
        ):
            assert value in text, value
        # Every all-ASCII line of the sent PDF comes back from the printed one (a line with
        # an accent loses it, and what follows it, in the PostScript round trip: see
        # cups_support.ascii_fold; the PNG artefacts show that they print).
        lines = [line.strip() for line in pdf_text_lines(pdf) if line.isascii()]
        assert len([line for line in lines if len(line) >= 8]) >= 10
        for line in lines:
            assert ascii_fold(line) in ascii_fold(text), line
    finally:
        printed.unlink()


def test_the_queue_is_listed_and_the_setting_wins_over_the_environment(cups, monkeypatch):
    printer, _out = cups
    assert printer in [queue.name for queue in list_printers()]
    monkeypatch.setenv("LPDEST", "from-lpdest")
    monkeypatch.setenv("PRINTER", "from-printer")
    assert printer_choice(printer) == printer
    assert printer_choice(None) == "from-lpdest"
    monkeypatch.delenv("LPDEST")
    assert printer_choice(None) == "from-printer"


def test_lpdest_is_used_when_no_printer_is_set(cups, monkeypatch):
    printer, out = cups
    monkeypatch.setenv("LPDEST", printer)
    job = print_pdf(render_receipt(make_receipt("le_goff"), "80mm"))
    assert job.startswith(f"{printer}-")
    wait_for_job(job)
    printed_file(out, job).unlink()


def test_unknown_printer_is_one_french_sentence(cups):
    with pytest.raises(DomainError) as raised:
        print_pdf(b"%PDF-1.4\n", "pas-une-imprimante")
    assert raised.value.code == "PRINTER_UNKNOWN"
    assert "« pas-une-imprimante » n'existe pas" in raised.value.message


def test_cups_not_running_is_said_so(cups, monkeypatch, tmp_path):
    monkeypatch.setenv("CUPS_SERVER", str(tmp_path / "no-such-socket"))
    with pytest.raises(DomainError) as raised:
        print_pdf(b"%PDF-1.4\n", "proclient-pdf")
    assert raised.value.code == "PRINTER_UNAVAILABLE"
    assert "CUPS ne répond pas" in raised.value.message


def test_cups_not_installed_is_said_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DomainError) as raised:
        print_pdf(b"%PDF-1.4\n", "proclient-pdf")
    assert raised.value.code == "PRINTER_MISSING"
    assert "CUPS n'est pas installé" in raised.value.message


@pytest.mark.slow
def test_secrets_sheet_printed_then_taken_leaves_no_copy(cups):
    printer, out = cups
    started = time.time()
    sheet = replace(SECRETS, initial_password=new_password())  # found nowhere before this test
    password = sheet.initial_password
    job = print_pdf(render_secrets(sheet, "80mm"), printer)
    wait_for_job(job)
    paper = printed_file(out, job)
    # The printed sheet is the paper: it must hold the password...
    assert password in pdf_file_text(paper) and sheet.login in pdf_file_text(paper)
    paper.unlink()  # ...and the patient takes it away.
    roots = [out, Path(tempfile.gettempdir())]
    if os.access(SPOOL, os.R_OK):
        roots.append(SPOOL)
    assert files_holding(password, roots, started) == []
