"""The journal of saved accusés: listed without names, found by number or DMP id, reprinted
through the real CUPS from the command line."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cups_support import pdf_file_text, printed_file, require_cups, wait_for_job
from receipt_samples import CHECKS, PATIENTS, legacy_receipt, make_receipt

from proclient.cli import main
from proclient.core.domain import DomainError
from proclient.receipts import journal
from proclient.receipts.pdf import render_receipt
from proclient.receipts.store import save_receipt


def _save_all(directory):
    for minute, key in enumerate(sorted(PATIENTS)):
        receipt = make_receipt(key, at=datetime(2021, 3, 14, 9, minute, tzinfo=UTC))
        page = "80mm" if key == "durand" else "a4"
        save_receipt(render_receipt(receipt, page), receipt, directory, page)


def test_entries_are_newest_first_with_operation_format_and_status(tmp_path):
    _save_all(tmp_path)
    entries = journal.entries(tmp_path)
    assert [entry.number for entry in entries] == [1, 2, 3, 4, 5]
    # okafor, le_goff, durand, casanova, ben_said: saved a minute apart in the other order
    assert [entry.dmp_id for entry in entries] == [
        "DMP-000005",
        "DMP-000004",
        "DMP-000003",
        "DMP-000002",
        "DMP-000001",
    ]
    by_id = {entry.dmp_id: entry for entry in entries}
    assert by_id["DMP-000001"].action == "reactivation"  # ben_said's closed DMP
    assert by_id["DMP-000004"].action == "creation"
    assert by_id["DMP-000003"].page == "80mm" and by_id["DMP-000002"].page == "a4"
    assert entries[0].at == datetime(2021, 3, 14, 10, 4)  # Paris time, from the file name
    # The identity's status: ben_said without a document, the others with one.
    assert by_id["DMP-000001"].status == "recuperee"
    assert by_id["DMP-000001"].status_label == "récupérée"
    assert {by_id[f"DMP-00000{n}"].status_label for n in (2, 3, 4, 5)} == {"qualifiée"}


def test_old_index_lines_without_status_still_load(tmp_path):
    """A line written before the status was recorded, one with an unknown status, and a
    request without an identity check: listed, status unknown."""
    receipt = make_receipt("le_goff")
    path = save_receipt(render_receipt(receipt, "a4"), receipt, tmp_path)  # no index line
    other = make_receipt("casanova", at=datetime(2021, 3, 14, 9, 40, tzinfo=UTC))
    other_path = save_receipt(b"%PDF-1.4\n", other, tmp_path)
    legacy = legacy_receipt("durand", at=datetime(2021, 3, 14, 9, 50, tzinfo=UTC))
    save_receipt(b"%PDF-1.4\n", legacy, tmp_path, "a4")
    with (tmp_path / journal.INDEX_NAME).open("a", encoding="utf-8") as index:
        index.write(json.dumps({"file": path.name, "action": "creation", "page": "a4"}) + "\n")
        index.write(
            json.dumps(
                {"file": other_path.name, "action": "creation", "page": "80mm", "status": "??"}
            )
            + "\n"
        )
    listed = {entry.dmp_id: entry for entry in journal.entries(tmp_path)}
    assert len(listed) == 3
    old = listed[receipt.dmp_id]
    assert (old.action, old.page, old.status, old.status_label) == ("creation", "a4", None, "?")
    assert listed[other.dmp_id].status is None and listed[other.dmp_id].page == "80mm"
    assert listed[legacy.dmp_id].status is None and listed[legacy.dmp_id].action == "creation"
    lines = (tmp_path / journal.INDEX_NAME).read_text(encoding="utf-8").splitlines()
    assert "status" not in json.loads(lines[0])  # the legacy request had no status to record


def test_the_index_names_no_patient(tmp_path):
    _save_all(tmp_path)
    index = (tmp_path / journal.INDEX_NAME).read_text(encoding="utf-8").casefold()
    assert index.count("\n") == 5
    assert index.count('"status": "qualifiee"') == 4 and index.count("recuperee") == 1
    for check in CHECKS.values():
        held = check.held
        for secret in (held.last_name, held.first_name, held.birth_date.raw):
            assert secret.casefold() not in index
        assert check.document.value not in index  # the status, not the document
    for patient in PATIENTS.values():
        for secret in (
            patient.last_name,
            patient.first_name,
            patient.ins.value,
            patient.ins.value[:13],
        ):
            assert secret.casefold() not in index


def test_a_pdf_without_index_line_is_still_listed(tmp_path):
    receipt = make_receipt("le_goff", dmp_id="152033523804587")  # an id that names: replaced
    save_receipt(b"%PDF-1.4\n", receipt, tmp_path)  # no page: no index line
    (entry,) = journal.entries(tmp_path)
    assert entry.dmp_id == "" and entry.action is None and entry.page is None
    assert entry.action_label == "accusé" and entry.page_label == "?"


def test_find_by_number_dmp_id_or_file_name_and_a_clear_error(tmp_path):
    _save_all(tmp_path)
    second = journal.entries(tmp_path)[1]
    assert journal.find(tmp_path, "2") == second
    assert journal.find(tmp_path, "dmp-000004") == second
    assert journal.find(tmp_path, second.path.name) == second
    with pytest.raises(DomainError) as raised:
        journal.find(tmp_path, "99")
    assert "proclient receipts list" in raised.value.message


def test_cli_lists_the_journal_without_names(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path))
    assert main(["receipts", "list"]) == 0
    assert "Aucun accusé" in capsys.readouterr().out
    _save_all(tmp_path / "data" / "receipts")
    assert main(["receipts", "list"]) == 0
    out = capsys.readouterr().out
    assert "DMP-000001" in out and "réactivation" in out and "80 mm" in out
    assert "14/03/2021 10:04" in out
    assert "identité" in out.splitlines()[0]
    (ben_said,) = (line for line in out.splitlines() if "DMP-000001" in line)
    assert ben_said.rstrip().endswith("récupérée")
    assert out.count("qualifiée") == 4
    for patient in PATIENTS.values():
        assert patient.last_name not in out


def test_cli_print_of_an_unknown_entry_is_one_french_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path))
    assert main(["receipts", "print", "7"]) == 1
    err = capsys.readouterr().err
    assert "Aucun accusé « 7 »" in err and "Traceback" not in err


def test_cli_reprints_a_saved_accuse_through_cups(tmp_path, monkeypatch, capsys):
    printer, out = require_cups()
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path))
    monkeypatch.setenv("PROCLIENT_PRINTER", printer)
    receipt = replace(make_receipt("casanova"), dmp_id="DMP-REPRINT-1")
    save_receipt(render_receipt(receipt, "80mm"), receipt, tmp_path / "data" / "receipts", "80mm")
    assert main(["receipts", "print", "DMP-REPRINT-1"]) == 0
    said = capsys.readouterr().out
    job = said.rsplit("tâche ", 1)[1].rstrip(".\n")
    wait_for_job(job)
    printed = printed_file(out, job)
    try:
        assert "DMP-REPRINT-1" in pdf_file_text(printed)
    finally:
        printed.unlink()
    assert main(["receipts", "printers"]) == 0
    assert f"{printer}  (" in capsys.readouterr().out
