"""Golden files: the text read back from every demo card's accusé, both formats, with and
without online access, and from the secrets sheet. Pages are also rendered to PNG in
artifacts/receipts/ for a person to look at.

Regenerate after an intended change with:  PROCLIENT_REGEN_GOLDEN=1 pytest tests/receipts
then read the diff of tests/receipts/golden/ before committing it.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from receipt_samples import PATIENTS, SECRETS, WEB, make_receipt

from proclient.receipts.pdf import render_receipt, render_secrets

GOLDEN = Path(__file__).parent / "golden"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "receipts"
REGENERATE = bool(os.environ.get("PROCLIENT_REGEN_GOLDEN"))
PAGES = ("a4", "80mm")


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text().rstrip() for page in reader.pages]
    return "\n\f\n".join(pages) + "\n"


def _receipt(key: str, web: bool):
    receipt = make_receipt(key)
    request = replace(receipt.request, web_access=WEB if web else None)
    return replace(receipt, request=request)


def _png(pdf: bytes, name: str) -> None:
    """Pages as PNG for the eye (pdftoppm): an artefact, not an assertion."""
    if shutil.which("pdftoppm") is None:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", "110", "-png", "-", str(ARTIFACTS / name)],
        input=pdf,
        check=True,
        capture_output=True,
    )


def _check(name: str, pdf: bytes) -> None:
    _png(pdf, name)
    text = _text(pdf)
    golden = GOLDEN / f"{name}.txt"
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    assert golden.exists(), f"{golden.name} missing: run with PROCLIENT_REGEN_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8"), (
        f"{name}: the PDF's text changed; if intended, regenerate (PROCLIENT_REGEN_GOLDEN=1) "
        "and review the diff"
    )


@pytest.mark.parametrize("web", [False, True], ids=["sans-acces", "acces-en-ligne"])
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("key", sorted(PATIENTS))
def test_accuse_text_matches_its_golden_file(key, page, web):
    _check(
        f"accuse-{key}-{page}-{'web' if web else 'noweb'}", render_receipt(_receipt(key, web), page)
    )


@pytest.mark.parametrize("page", PAGES)
def test_secrets_sheet_text_matches_its_golden_file(page):
    _check(f"secrets-{page}", render_secrets(SECRETS, page, demo=True))


def test_golden_files_have_no_stray_entries():
    expected = {
        f"accuse-{k}-{p}-{w}.txt" for k in PATIENTS for p in PAGES for w in ("web", "noweb")
    } | {f"secrets-{p}.txt" for p in PAGES}
    assert {path.name for path in GOLDEN.glob("*.txt")} == expected
