"""The real terminal program under tmux, typed at as a user would, down to the receipt."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = [pytest.mark.tmux, pytest.mark.slow]


def require(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("PROCLIENT_REQUIRE_REAL"):
            pytest.fail(f"{tool} is required here (PROCLIENT_REQUIRE_REAL is set)")
        pytest.skip(f"{tool} is not installed")


class Terminal:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.name = f"proclient-{uuid.uuid4().hex[:8]}"
        env_args = [f"{k}={v}" for k, v in env.items()]
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                "120",
                "-y",
                "40",
                "env",
                *env_args,
                *command,
            ],
            check=True,
        )

    def screen(self) -> str:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return done.stdout

    def alive(self) -> bool:
        return (
            subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode
            == 0
        )

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.15)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_demo_under_tmux_creates_a_dmp_and_saves_the_receipt(tmp_path):
    require("tmux")
    home = tmp_path / "home"
    env = {
        "PROCLIENT_HOME": str(home),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PATH": os.environ.get("PATH", ""),
    }
    term = Terminal([sys.executable, "-m", "proclient", "demo"], env)
    try:
        term.wait_for("Insérez la carte Vitale du patient")
        term.wait_for("joignable")  # the embedded service is up
        assert "DÉMONSTRATION" in term.screen()
        term.keys("F2")
        term.wait_for("Quelle carte Vitale")
        term.keys("Enter")  # the first demo card: LE GOFF Gérard
        term.wait_for("Étape 1/4")
        assert "LE GOFF Gérard" in term.screen()
        term.keys("Enter")
        term.wait_for("code porteur")
        term.keys("1", "2", "3", "4", "Enter")
        term.wait_for("Aucun DMP pour ce patient")
        assert "GERARD" in term.screen()  # INSi's traits beside the card's
        term.keys("Enter")  # the passport seen, first in the list
        term.wait_for("qualifiée")
        term.keys("F8")
        term.wait_for("Étape 3/4")
        term.keys("Space", "F8")
        term.wait_for("Étape 4/4")
        term.keys("F8")
        term.wait_for("Récapitulatif")
        term.keys("Enter")
        screen = term.wait_for("DMP créé.")
        receipts = list((home / "data" / "receipts").glob("*.pdf"))
        assert len(receipts) == 1
        assert "Accusé de création enregistré" in screen
        term.keys("Enter")
        term.wait_for("Retirez la carte Vitale du patient")
        term.keys("F3")
        term.wait_for("Insérez la carte Vitale du patient")  # the card leaves the reader
        term.keys("F10")
        deadline = time.monotonic() + 10
        while term.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not term.alive(), "F10 did not quit"
    finally:
        term.close()


def test_a_burst_of_keys_after_f2_does_not_crash_and_the_exit_status_is_kept(tmp_path):
    """Issue 21 point 1, as the tester did it: F2 then twenty Enter and Escape sent at once
    (one tmux command: no pause between the keys). The program goes on; F10 then quits with
    status 0 (a crash, if one happened, would now exit non-zero: tests/tui/test_key_burst)."""
    require("tmux")
    status = tmp_path / "status"
    env = {
        "PROCLIENT_HOME": str(tmp_path / "home"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PATH": os.environ.get("PATH", ""),
    }
    command = f"{sys.executable} -m proclient demo; echo $? > {status}"
    term = Terminal(["sh", "-c", command], env)
    try:
        term.wait_for("joignable")
        term.keys("F2")
        term.wait_for("Quelle carte Vitale")
        burst = ["Enter"] * 10 + ["Escape"] * 5 + ["Enter"] * 10
        subprocess.run(["tmux", "send-keys", "-t", term.name, *burst], check=True)
        time.sleep(2)
        assert "Traceback" not in term.screen() and "Error" not in term.screen()
        # Wherever the burst left it (step 1 once the card read ends, or home): back home. An
        # Escape typed before step 1 came up is dropped (meant for the screen before): again.
        for _attempt in range(5):
            term.keys("Escape")
            try:
                term.wait_for("Accueil", timeout=3)
                break
            except AssertionError:
                continue
        term.wait_for("Accueil")
        term.keys("F10")
        deadline = time.monotonic() + 15
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status.read_text().strip() == "0"
    finally:
        term.close()
