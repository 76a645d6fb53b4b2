"""The nurse's day, as the issue tells it, with the real terminal program under tmux: three
DMPs recorded at patients' homes with the service unreachable (`proclient demo --offline`),
the laptop closed (the process killed with SIGKILL), opened back at the office with the
network: three DMPs created once each, three accusés saved, an empty outbox, and no patient
data left on disk outside the receipts folder (the demo's embedded *service* database aside:
it stands for the national service, not the workstation)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.test_tmux_smoke import Terminal, require

pytestmark = [pytest.mark.tmux, pytest.mark.slow]

# What would name the three patients: names, NIRs (with and without key), birth dates.
PATIENTS = {
    "legoff": ("GOFF", "Gérard", "1520335238045", "19520314", "14/03/1952"),
    "durand": ("DURAND", "Sophie", "2850775056123", "19850722", "22/07/1985"),
    "robert": ("ROBERT", "Jean", "1750233063112", "19750220", "20/02/1975"),
}
PICKER = {"legoff": 0, "durand": 1, "robert": 5}


def record_at_home(term: Terminal, key: str, first: bool) -> None:
    term.keys("F2")
    term.wait_for("Quelle carte Vitale")
    term.keys(*(["Down"] * PICKER[key]), "Enter")
    term.wait_for("Étape 1/4")
    term.wait_for(PATIENTS[key][0])  # the card asked for, not the one next to it
    term.keys("Enter")  # the beneficiary (Sophie is first on the DURAND card)
    term.wait_for("Étape 2/4")
    if first:
        term.wait_for("code porteur")
        term.keys("1", "2", "3", "4", "Enter")  # the card checks it: no network needed
    term.wait_for("ENREGISTRÉE")
    term.keys("Enter")  # the passport seen, first in the list
    term.wait_for("Pièce vue : Passeport.")
    term.keys("F8")
    term.wait_for("Étape 3/4")
    term.keys("Space", "F8")
    term.wait_for("hors connexion")  # step 4 says why online access cannot be asked
    term.keys("F8")
    term.wait_for("PAS ENCORE FAITE")
    term.keys("Enter")
    term.wait_for("le DMP n'est PAS encore créé")
    term.keys("Enter")  # next patient
    term.wait_for("Retirez la carte Vitale")
    term.keys("F3")
    term.wait_for("Insérez la carte Vitale du patient")


def pane_pid(term: Terminal) -> int:
    done = subprocess.run(
        ["tmux", "list-panes", "-t", term.name, "-F", "#{pane_pid}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[0])


def patient_traces(home, receipts, service_files) -> list[tuple[str, str]]:
    needles = [n for values in PATIENTS.values() for n in values]
    hits = []
    for path in home.rglob("*"):
        if not path.is_file() or receipts in path.parents or path in service_files:
            continue
        data = path.read_bytes()
        for needle in needles:
            if needle.encode() in data or needle.upper().encode() in data:
                hits.append((str(path.relative_to(home)), needle))
    return hits


def test_three_dmps_recorded_offline_killed_then_created_once_at_the_office(tmp_path):
    require("tmux")
    home = tmp_path / "home"
    env = {
        "PROCLIENT_HOME": str(home),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PATH": os.environ.get("PATH", ""),
    }
    receipts = home / "data" / "receipts"
    term = Terminal([sys.executable, "-m", "proclient", "demo", "--offline"], env)
    try:
        term.wait_for("Insérez la carte Vitale du patient")
        term.wait_for("injoignable")
        for index, key in enumerate(PATIENTS):
            record_at_home(term, key, first=index == 0)
        term.wait_for("Créations enregistrées en attente : 3")
        assert not list(receipts.glob("accuse-*.pdf"))
        os.kill(pane_pid(term), signal.SIGKILL)  # the laptop closed: no goodbye
        deadline = time.monotonic() + 10
        while term.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        term.close()
    outbox = home / "data" / "demo" / "outbox"
    assert len(list(outbox.glob("*.entry"))) == 3

    office = Terminal([sys.executable, "-m", "proclient", "demo"], env)
    try:
        office.wait_for("Créations enregistrées en attente : 3")
        office.wait_for("joignable")
        office.keys("F7")
        office.wait_for("Code porteur de votre carte CPS")
        screen = office.screen()
        for name, first, *_ in PATIENTS.values():
            assert name not in screen and first not in screen  # the list names nobody
        office.keys("1", "2", "3", "4", "Enter")
        office.wait_for("Aucune création en attente.", timeout=60)
        accuses = sorted(receipts.glob("accuse-*.pdf"))
        assert len(accuses) == 3
        assert not list(outbox.glob("*.entry"))
        office.keys("Escape")
        office.wait_for("Insérez la carte Vitale du patient")
        assert "Créations enregistrées en attente" not in office.screen()
        office.keys("F10")  # nothing waits: no question
        deadline = time.monotonic() + 10
        while office.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not office.alive()
    finally:
        office.close()

    # Each DMP once: the embedded service's database has exactly these three, once each.
    import sqlite3

    database = home / "data" / "demo" / "dmp-service.sqlite3"
    service_files = set((home / "data" / "demo").glob("dmp-service.sqlite3*"))
    assert database.is_file()
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT ins_value, COUNT(*) FROM dmps GROUP BY ins_value").fetchall()
    counts = dict(rows)
    for _name, _first, nir13, *_ in PATIENTS.values():
        matching = [n for ins, n in counts.items() if ins.startswith(nir13)]
        assert matching == [1], (nir13, counts)
    assert patient_traces(home, receipts, service_files) == []
