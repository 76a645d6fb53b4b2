"""The command line, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from proclient import __version__


def run(*args: str, home, stdin: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, PROCLIENT_HOME=str(home))
    env.pop("PROCLIENT_SERVICE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "proclient", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
    )


def test_version(tmp_path):
    done = run("--version", home=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"proclient {__version__}"


def test_locate_says_where_files_live(tmp_path):
    done = run("locate", home=tmp_path)
    assert done.returncode == 0
    assert f"Accusés de création : {tmp_path / 'data' / 'receipts'}" in done.stdout
    assert str(tmp_path / "config" / "config.toml") in done.stdout


def test_unconfigured_workstation_explains_and_offers_the_demo(tmp_path):
    done = run(home=tmp_path)
    assert done.returncode == 3
    assert "pas encore réglé" in done.stderr
    assert "proclient demo" in done.stderr
    assert "Traceback" not in done.stderr


def test_broken_settings_file_gives_one_french_line(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("[service\nurl = ", encoding="utf-8")
    done = run(home=tmp_path)
    assert done.returncode == 1
    assert "illisible" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_configured_workstation_without_credential_says_what_to_configure(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text(
        '[service]\nurl = "https://dmp.example.test"\n', encoding="utf-8"
    )
    done = run(home=tmp_path)
    assert done.returncode == 1
    assert "credential." in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
