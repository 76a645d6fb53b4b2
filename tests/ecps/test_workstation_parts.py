"""The workstation's e-CPS parts that need no service: the national id as typed, the
workstation's secret, the remembered national id, the time left as shown."""

from __future__ import annotations

import stat

import pytest

from proclient.controllers.ecps import NationalIdMemory
from proclient.core.domain import DomainError
from proclient.core.national_id import national_id
from proclient.screens.ecps import time_left
from proclient.service.workstation import FILE_NAME, workstation_secret


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("899700024450", "899700024450"),
        ("99700024450", "899700024450"),  # the RPPS alone gets its 8
        (" 997 000 244 50 ", "899700024450"),
        ("0123456789", "0123456789"),  # ADELI-based idNat
        ("123456789", "0123456789"),  # the ADELI number alone gets its 0
        ("02A1234567", "02A1234567"),  # Corsica's ADELI numbers start with 2A or 2B
        ("2b1234567", "02B1234567"),
    ],
)
def test_national_id_accepted(typed: str, expected: str) -> None:
    assert national_id(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["", "2C1234567", "899700024451", "99700024451", "12345", "8997000244500", "abc", "８９９７"],
)
def test_national_id_refused_with_a_sentence(typed: str) -> None:
    with pytest.raises(DomainError) as refused:
        national_id(typed)
    assert refused.value.code == "NATIONAL_ID"
    assert "RPPS" in refused.value.message


def test_workstation_secret_made_once_private_and_reused(tmp_path) -> None:
    first = workstation_secret(tmp_path)
    path = tmp_path / FILE_NAME
    assert len(first) == 43
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert workstation_secret(tmp_path) == first
    assert workstation_secret(tmp_path / "other") != first


def test_workstation_secret_made_again_when_malformed(tmp_path) -> None:
    (tmp_path / FILE_NAME).write_text("not a secret\n")
    made = workstation_secret(tmp_path)
    assert made != "not a secret" and len(made) == 43
    assert (tmp_path / FILE_NAME).read_text().strip() == made


def test_national_id_remembered_privately(tmp_path) -> None:
    memory = NationalIdMemory(tmp_path / "id")
    assert memory.recall() == ""
    memory.remember("899700024450")
    assert NationalIdMemory(tmp_path / "id").recall() == "899700024450"
    assert stat.S_IMODE((tmp_path / "id").stat().st_mode) == 0o600
    (tmp_path / "id").write_text("garbage; rm -rf\n")
    assert memory.recall() == ""
    assert NationalIdMemory(None).recall() == ""


def test_time_left_in_minutes_and_seconds() -> None:
    assert time_left(114) == "1 min 54 s"
    assert time_left(45) == "45 s"
    assert time_left(-3) == "0 s"
