"""Saving the accusé: atomic, private, a file name that names no one."""

from __future__ import annotations

import inspect
import os
import re
import stat

import pytest
from receipt_samples import PATIENTS, make_receipt

from proclient.core import fileutil
from proclient.receipts import store
from proclient.receipts.store import receipt_filename, save_receipt

PDF = b"%PDF-1.4 fake accuse\n"


@pytest.mark.parametrize("key", sorted(PATIENTS))
def test_saved_file_is_private_and_names_no_patient(key, tmp_path):
    receipt = make_receipt(key)
    path = save_receipt(PDF, receipt, tmp_path)
    assert path.parent == tmp_path and path.read_bytes() == PDF
    assert re.fullmatch(r"accuse-20210314-103005-DMP-00000[1-5]\.pdf", path.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lowered = path.name.casefold()
    patient = PATIENTS[key]
    for part in (*patient.last_name.split(), patient.first_name):
        assert part.casefold() not in lowered
    assert patient.ins.value not in path.name
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind


@pytest.mark.parametrize(
    "dmp_id",
    [
        "152033523804587",
        "INS-1520335238045",
        "DMP-LE_GOFF-1",
        "",
        "1 52 03 35 238 045 87",
        "gerard-42",
        "///",
    ],
)
def test_dmp_id_that_could_name_the_patient_is_replaced(dmp_id):
    receipt = make_receipt("le_goff", dmp_id=dmp_id)
    name = receipt_filename(receipt)
    assert re.fullmatch(r"accuse-20210314-103005-x[0-9a-f]{8}\.pdf", name), name


def test_dmp_id_cannot_escape_the_directory(tmp_path):
    receipt = make_receipt("le_goff", dmp_id="../../etc/DMP 42")
    path = save_receipt(PDF, receipt, tmp_path / "accuses")
    assert path.parent == tmp_path / "accuses"
    assert path.name == "accuse-20210314-103005-etcDMP42.pdf"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_saving_again_replaces_the_same_file(tmp_path):
    receipt = make_receipt("durand")
    first = save_receipt(b"one", receipt, tmp_path)
    second = save_receipt(b"two", receipt, tmp_path)
    assert first == second and second.read_bytes() == b"two"
    assert len(os.listdir(tmp_path)) == 1


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(fileutil.os, "replace", broken_replace)  # the one atomic writer
    with pytest.raises(OSError, match="disk full"):
        save_receipt(PDF, make_receipt("le_goff"), tmp_path)
    assert os.listdir(tmp_path) == []


def test_there_is_no_way_to_store_the_secrets_sheet():
    functions = [name for name, obj in inspect.getmembers(store, inspect.isfunction)]
    assert not [name for name in functions if "secret" in name.casefold()]
    assert "HOM 112" in (store.__doc__ or "") and "HOM 112" in (save_receipt.__doc__ or "")
