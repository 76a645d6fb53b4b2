"""Saving the same accusé again (a replay after a crash) replaces the same file, even when
the DMP id had to be replaced by a token; a save killed mid-way leaves no partial PDF."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from proclient.core.domain import (
    OID_INS_NIR_TEST,
    Action,
    BirthDate,
    Consent,
    Ins,
    Patient,
    Professional,
    Sex,
)
from proclient.core.records import CreationReceipt, CreationRequest
from proclient.receipts.store import receipt_filename, save_receipt

PRO = Professional("899700024450", "MARTIN", "Claire", "21")


def receipt(dmp_id: str) -> CreationReceipt:
    patient = Patient(
        Ins("215067511203450", OID_INS_NIR_TEST), "DURAND", "Lea", BirthDate("20150603"), Sex.FEMALE
    )
    request = CreationRequest(Action.CREATION, patient, Consent(creation=True))
    return CreationReceipt(request, PRO, dmp_id, datetime(2026, 11, 28, 10, 42, tzinfo=UTC))


def test_a_dmp_id_naming_the_patient_gets_the_same_token_each_time():
    first = receipt_filename(receipt("DMP-LEA2-0042"))
    assert "LEA" not in first.upper().replace("ACCUSE", "")
    assert first == receipt_filename(receipt("DMP-LEA2-0042"))
    assert first != receipt_filename(receipt("DMP-LEA2-0043"))


def test_the_same_accuse_saved_twice_is_one_file(tmp_path):
    save_receipt(b"%PDF-1 first", receipt("DMP-LEA2-0042"), tmp_path)
    save_receipt(b"%PDF-1 again", receipt("DMP-LEA2-0042"), tmp_path)
    assert len(list(tmp_path.glob("accuse-*.pdf"))) == 1


def test_a_partial_pdf_left_by_a_killed_save_is_swept(tmp_path):
    partial = tmp_path / ".accuse-20261128-114200-DMP-1.pdf.abcd.tmp"
    partial.write_bytes(b"%PDF-1 half")
    old = time.time() - 120
    os.utime(partial, (old, old))
    save_receipt(b"%PDF-1 whole", receipt("DMP-0000000042"), tmp_path)
    assert not partial.exists()
