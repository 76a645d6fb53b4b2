"""Saving the accusé de création to disk, atomically and privately.

There is deliberately no function here to save the secrets sheet: the software must not store
the patient's login or initial password (HOM 112). That sheet is rendered to bytes, printed,
and forgotten; nothing in proclient writes it to a file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from proclient.core.clock import paris_time
from proclient.core.domain import compact_nir
from proclient.core.fileutil import sweep_stale_temporaries, write_private
from proclient.core.records import CreationReceipt

FILE_MODE = 0o600
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_LONG_DIGITS = re.compile(r"\d{13,}")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def _dmp_part(receipt: CreationReceipt) -> str:
    """The DMP id, reduced to safe characters, unless it could name the patient.

    A DMP id may well be built from the INS (the historical DMP id was the patient's INS):
    if it carries the NIR, any 13+ digit run, or the patient's name, a token derived from it
    (a truncated hash: the same DMP id always gives the same file name) replaces it.
    """
    safe = _UNSAFE.sub("", receipt.dmp_id)[:40]
    letters = _NOT_ALNUM.sub("", safe).casefold()
    patient = receipt.patient
    nir = compact_nir(patient.ins.value)
    last = patient.last_name.casefold()
    names = [*_NOT_ALNUM.split(f"{last} {patient.first_name.casefold()}"), _NOT_ALNUM.sub("", last)]
    leaks = (
        not letters
        or (len(nir) >= 13 and nir[:13].casefold() in letters)
        or _LONG_DIGITS.search(letters)
        or any(len(part) >= 3 and part in letters for part in names)
    )
    if not leaks:
        return safe
    # A token in its place, derived from the DMP id (not random): the same accusé saved again
    # (a replay after a crash) replaces the same file instead of making a second one.
    return "x" + hashlib.sha256(b"proclient accuse\0" + receipt.dmp_id.encode()).hexdigest()[:8]


def receipt_filename(receipt: CreationReceipt) -> str:
    """``accuse-<YYYYMMDD-HHMMSS>-<dmp id>.pdf`` (Paris time): never a name, never a NIR."""
    stamp = paris_time(receipt.at).strftime("%Y%m%d-%H%M%S")
    return f"accuse-{stamp}-{_dmp_part(receipt)}.pdf"


def save_receipt(
    pdf: bytes, receipt: CreationReceipt, directory: Path, page: str | None = None
) -> Path:
    """Write the accusé ``pdf`` into ``directory`` and return its path.

    With ``page`` ("a4" or "80mm"), the journal's name-free index gets a line too (operation,
    format and identity status: see :mod:`proclient.receipts.journal`).

    Atomic: a temporary file in the same directory, flushed to disk, then ``os.replace``; a
    reader never sees half a PDF. The file is private to the user (mode 0600). Saving the same
    receipt twice replaces the first file (same name), the DMP id's token included.
    The secrets sheet has no counterpart here on purpose (HOM 112: never store the login or
    initial password).
    """
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A save killed mid-way (SIGKILL) leaves a partial PDF in a hidden temporary file.
    sweep_stale_temporaries(directory)
    target = directory / receipt_filename(receipt)
    write_private(target, pdf, mode=FILE_MODE)
    if page is not None:
        from proclient.receipts.journal import record

        check = receipt.request.identity
        status = check.status.value if check is not None and check.status is not None else None
        record(directory, target.name, receipt.request.action.value, page, status)
    return target
