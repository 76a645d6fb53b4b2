"""`proclient card read`, `virtual-card` and `doctor` as a user or a script runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from proclient.cardreader.emulator import VitaleEmulator
from tests.cardreader.conftest import EXPECTED_DEMO
from tests.pcsc.conftest import PATIENT_READER, wait_present


def proclient(*args: str, home, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROCLIENT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "proclient", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        **kwargs,
    )


@pytest.mark.parametrize("key", sorted(EXPECTED_DEMO))
def test_card_read_json_prints_each_demo_card(slots, tmp_path, key) -> None:
    slots.insert(VitaleEmulator.from_demo(key, t0_mode=True))
    done = proclient("card", "read", "--json", "--reader", "vpcd 00 00", home=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["card"] == {"type": "vitale2", "atr": "3B751300004409EA9000"}
    rows = [
        (b["last_name"], b["first_name"], b["birth_date_on_card"], b["nir"])
        for b in document["beneficiaries"]
    ]
    assert rows == EXPECTED_DEMO[key]
    for b in document["beneficiaries"]:
        raw = b["birth_date_on_card"]
        expected = None if raw[4:6] == "00" else f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
        assert b["birth_date"] == expected
        assert b["sex"] == {"1": "M", "2": "F"}[b["nir"][0]]


def test_card_read_empty_reader_is_one_french_line_and_exit_4(slots, tmp_path) -> None:
    done = proclient("card", "read", "--json", "--reader", "vpcd 00 00", home=tmp_path)
    assert done.returncode == 4
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "Aucune carte dans le lecteur : insérez la carte Vitale du patient."
    ]


def test_card_read_unknown_reader_exits_6(slots, tmp_path) -> None:
    done = proclient("card", "read", "--reader", "pas de lecteur ainsi", home=tmp_path)
    assert done.returncode == 6 and "branchez" in done.stderr


def test_virtual_card_command_inserts_until_ctrl_c(slots, tmp_path) -> None:
    env = {**os.environ, "PROCLIENT_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "proclient", "virtual-card", "--card", "casanova"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert "insérée" in process.stdout.readline()
        wait_present(PATIENT_READER)
        done = proclient("card", "read", "--json", "--reader", "vpcd 00 00", home=tmp_path)
        assert json.loads(done.stdout)["beneficiaries"][0]["last_name"] == "CASANOVA-ORSINI"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "Traceback" not in err
    assert "retirée" in out
    wait_present(PATIENT_READER, present=False)
    time.sleep(0.6)  # vpcd's safe re-insertion delay, for the next test's card


def test_doctor_names_the_card_in_each_reader(slots, tmp_path) -> None:
    from proclient.cardreader.cps_emulator import CpsEmulator
    from tests.pcsc.conftest import PROFESSIONAL_PORT

    slots.insert(VitaleEmulator.from_demo("legoff"))
    slots.insert(CpsEmulator(4), port=PROFESSIONAL_PORT)
    done = proclient("doctor", home=tmp_path)
    assert "pcscd répond" in done.stdout and "Traceback" not in done.stderr
    assert "carte Vitale 2" in done.stdout and "carte CPS" in done.stdout
    assert done.returncode in (0, 1)  # the printer line depends on this machine's CUPS
