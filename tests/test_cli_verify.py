"""`proclient verify FILE.pdf` run as a user runs it: one sentence, the verdict's exit code,
never a traceback; trust from `[verify] cps_ca` or the demo's CA with `--demo`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from proclient.credentials.software import unlock_demo
from proclient.receipts.pdf import render_receipt
from proclient.receipts.signing import sign_pdf
from proclient.server.demo import ensure_demo_pki
from tests.receipts.receipt_samples import make_receipt


def run(*args: str, home: Path, language: str = "fr") -> subprocess.CompletedProcess:
    env = dict(os.environ, PROCLIENT_HOME=str(home), LANGUAGE=language, LANG="C.UTF-8")
    env.pop("PROCLIENT_SERVICE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "proclient", "verify", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory, demo_pki_cache) -> Path:
    """A workstation whose demo folder holds the run's demo PKI."""
    home = tmp_path_factory.mktemp("verify-home")
    shutil.copytree(demo_pki_cache, home / "data" / "demo" / "demo-pki")
    return home


@pytest.fixture(scope="module")
def signed(home, tmp_path_factory) -> Path:
    pki = ensure_demo_pki(home / "data" / "demo" / "demo-pki")
    with unlock_demo(pki.default).document_signer() as signer:
        pdf = sign_pdf(render_receipt(make_receipt("le_goff")), signer)
    path = tmp_path_factory.mktemp("accuses") / "accuse.pdf"
    path.write_bytes(pdf)
    return path


def _one_sentence(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr == ""
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return lines[0]


def test_a_signed_accuse_is_valid_with_the_demo_ca_and_names_the_signer(home, signed):
    done = run(str(signed), "--demo", home=home)
    assert done.returncode == 0
    assert _one_sentence(done).startswith("Accusé intact, signé par Claire MARTIN")


def test_a_pdf_verdict_in_json_when_asked(home, signed):
    done = run(str(signed), "--demo", "--json", home=home)
    assert done.returncode == 0
    record = json.loads(_one_sentence(done))
    assert record["outcome"] == "valid"
    assert record["sentence"].startswith("Accusé intact, signé par Claire MARTIN")


def test_the_cps_ca_of_the_settings_is_the_trust_anchor(home, signed, tmp_path):
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    ca = home / "data" / "demo" / "demo-pki" / "ca.pem"
    try:
        config.write_text(f'[verify]\ncps_ca = "{ca}"\n', encoding="utf-8")
        assert run(str(signed), home=home).returncode == 0
        other = tmp_path / "other-ca.pem"
        from proclient.server.pki import create_ca

        other.write_bytes(create_ca("Autre autorité").certificate_pem)
        config.write_text(f'[verify]\ncps_ca = "{other}"\n', encoding="utf-8")
        done = run(str(signed), home=home)
        assert done.returncode == 21
        assert "certificat inconnu" in _one_sentence(done)
    finally:
        config.unlink(missing_ok=True)


def test_without_a_trusted_ca_it_says_what_to_set(home, signed):
    done = run(str(signed), home=home)
    assert done.returncode == 3
    assert "[verify] cps_ca" in _one_sentence(done)


def test_one_byte_changed_is_altered_in_english_too(home, signed, tmp_path):
    data = bytearray(signed.read_bytes())
    data[data.index(b"/Title") + 9] ^= 0x01
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(bytes(data))
    done = run(str(changed), "--demo", home=home, language="en")
    assert done.returncode == 20
    assert _one_sentence(done).startswith("Accusé changed after it was signed")


def _sparse(path: Path, size: int) -> None:
    """A file of ``size`` bytes that starts like a PDF (sparse: nothing written to disk)."""
    path.write_bytes(b"%PDF-1.7\n")
    os.truncate(path, size)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda path: path.write_bytes(b""), "vide"),
        (lambda path: path.write_text("Bonjour, ceci n'est pas un PDF.\n"), "pas un PDF"),
        (lambda path: path.write_bytes(b"%PDF-1.7\n%%EOF\n"), "abîmé"),
        (lambda path: _sparse(path, 50 << 20), "volumineux"),
        (lambda path: path.mkdir(), "ne peut pas être lu"),
        (lambda path: None, "ne peut pas être lu"),
    ],
    ids=["empty", "not-a-pdf", "broken-pdf", "50-MB", "a-folder", "missing"],
)
def test_bad_input_is_one_sentence_and_exit_22(home, tmp_path, make, words):
    path = tmp_path / "accuse.pdf"
    make(path)
    done = run(str(path), "--demo", home=home)
    assert done.returncode == 22
    assert words in _one_sentence(done)


def test_an_unsigned_pdf_exits_23(home, tmp_path):
    path = tmp_path / "plain.pdf"
    path.write_bytes(render_receipt(make_receipt("le_goff")))
    done = run(str(path), "--demo", home=home)
    assert done.returncode == 23
    assert "aucune signature" in _one_sentence(done)
