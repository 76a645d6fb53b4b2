"""The real CUPS queue that scripts/services/cups.sh sets up (cups-pdf), for the printing
tests: find it, wait for a job, find what cups-pdf wrote, read a PDF's text back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from proclient.receipts.printing import job_done, scheduler_running


def require_cups() -> tuple[str, Path]:
    """The test queue and cups-pdf's output dir; skip (or fail under PROCLIENT_REQUIRE_REAL)
    with the reason when CUPS or the queue is not there."""
    printer = os.environ.get("PROCLIENT_TEST_PRINTER")
    out = os.environ.get("PROCLIENT_TEST_PRINT_DIR")
    reason = None
    if shutil.which("lp") is None or shutil.which("lpstat") is None:
        reason = "CUPS client tools (lp, lpstat) are not installed"
    elif not printer or not out:
        reason = (
            "PROCLIENT_TEST_PRINTER / PROCLIENT_TEST_PRINT_DIR unset: "
            "source scripts/services/cups.sh"
        )
    elif not scheduler_running():
        reason = "the CUPS scheduler is not running"
    if reason:
        if os.environ.get("PROCLIENT_REQUIRE_REAL"):
            pytest.fail(f"real CUPS required here (PROCLIENT_REQUIRE_REAL is set): {reason}")
        pytest.skip(reason)
    return printer, Path(out)


def wait_for_job(job_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not job_done(job_id):
        if time.monotonic() > deadline:
            raise AssertionError(f"CUPS job {job_id} did not complete")
        time.sleep(0.1)


def printed_file(out: Path, job_id: str, timeout: float = 30.0) -> Path:
    """The PDF cups-pdf wrote for ``job_id`` (its name ends in job_<number>.pdf)."""
    number = job_id.rsplit("-", 1)[-1]
    pattern = re.compile(rf"job_{number}\.pdf$")
    deadline = time.monotonic() + timeout
    while True:
        found = [path for path in out.rglob("*.pdf") if pattern.search(path.name)]
        if found:
            path = found[0]
            size = path.stat().st_size
            time.sleep(0.1)
            if size and size == path.stat().st_size:  # cups-pdf has finished writing it
                return path
        if time.monotonic() > deadline:
            raise AssertionError(f"no cups-pdf output for job {job_id} in {out}")
        time.sleep(0.1)


def pdf_file_text(path: Path) -> str:
    """Text of a PDF on disk (pdftotext when present, else pypdf), whitespace collapsed."""
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", "-q", str(path), "-"], capture_output=True, check=False)
        text = done.stdout.decode("utf-8", "replace")
    else:
        from pypdf import PdfReader

        text = " ".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return re.sub(r"\s+", " ", text)


def ascii_fold(text: str) -> str:
    """``text`` with every non-ASCII character as a space, whitespace collapsed.

    cups-pdf prints through PostScript and Ghostscript, which keep the glyphs (accents print
    right: see the PNG artefacts) but drop their Unicode mapping, so text read back from the
    printed file has a blank where an accent was. Both sides are folded the same way."""
    return re.sub(r"\s+", " ", re.sub(r"[^\x00-\x7f]", " ", text)).strip()


def files_holding(secret: str, roots: list[Path], since: float) -> list[Path]:
    """Files under ``roots`` holding ``secret`` as bytes, or in their text when they are PDFs
    (a PDF's text sits in compressed streams with subset font codes: raw bytes would miss it).
    Only files written or created since ``since`` (a ``time.time()`` taken before the secret
    existed) are read: no older file can hold it, and the temporary folder may hold a whole
    clone of the project with its venv (CI clones into it), which took 30 to 50 s to read."""
    needle = secret.encode()
    found = []
    for root in roots:
        if not root.exists():
            continue
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = Path(folder, name)
                try:
                    info = path.stat()
                    if not path.is_file() or info.st_size > 50_000_000:
                        continue
                    # ctime too: a copy that kept an old mtime still got a new ctime.
                    if max(info.st_mtime, info.st_ctime) < since - 2:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if needle in data:
                    found.append(path)
                elif b"%PDF" in data[:1024] and secret in pdf_file_text(path):
                    found.append(path)
    return found
