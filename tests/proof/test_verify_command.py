"""`proclient verify --code`: as a real process, the code on the command line or typed on the
standard input as a scanner does; one sentence and an exit code for every outcome."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from proclient.core.proof.statement import encode
from proclient.server.pki import create_ca
from proclient.server.signing_key import BUNDLE_NAME, load_or_create_signer
from tests.proof.statements import statement

# A reactivation a representative consented to, with the break-glass access authorised and
# the SAMU's refused, signed today (the test service's certificate is valid from now).
STATEMENT = statement(
    kind="reactivation",
    at=datetime.now(UTC).replace(microsecond=0),
    consent_by="representative",
    samu_access=False,
    break_glass_access=True,
)


def run(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, PROCLIENT_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "proclient", "verify", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A service's signing folder and a workstation whose settings trust it."""
    folder = tmp_path_factory.mktemp("service") / "document-signing"
    signer = load_or_create_signer(folder, create_ca("service CA"))
    home = tmp_path_factory.mktemp("home")
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text(
        f'[verify]\nservice_certificates = "{folder / BUNDLE_NAME}"\n', encoding="utf-8"
    )
    return signer, home


def test_a_valid_code_on_the_command_line_says_what_it_asserts(service):
    signer, home = service
    done = run(home, "--code", encode(STATEMENT, signer))
    assert done.returncode == 0, done.stderr
    assert "Code valide" in done.stdout and "DMP-4F7Q2K9X" in done.stdout
    assert "représentant légal" in done.stdout and "bris de glace autorisé" in done.stdout
    assert done.stderr == ""


def test_a_code_typed_by_a_scanner_on_stdin_and_json(service):
    signer, home = service
    done = run(home, "--code", "-", "--json", stdin="\r\n" + encode(STATEMENT, signer) + "\r\n")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["outcome"] == "valid"
    assert record["details"]["ins_masked"] == "2**********2538"
    assert record["details"]["key_id"] == signer.key_id


def test_english_sentence(service):
    signer, home = service
    env_home = home
    done = subprocess.run(
        [sys.executable, "-m", "proclient", "verify", "--code", encode(STATEMENT, signer)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PROCLIENT_HOME=str(env_home), LANGUAGE="en"),
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("Valid code, signed by the DMP service")


def test_an_altered_code_exits_20(service):
    import zlib

    import base45
    import cbor2

    signer, home = service
    code = encode(STATEMENT, signer)
    tag = cbor2.loads(zlib.decompress(base45.b45decode(code[5:])))
    protected, unprotected, payload, signature = tag.value
    fields = dict(cbor2.loads(payload))
    fields[12] = True  # SAMU: refused → authorised
    forged = cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(fields), signature])
    text = "DMP1:" + base45.b45encode(zlib.compress(cbor2.dumps(forged))).decode()
    done = run(home, "--code", text)
    assert done.returncode == 20
    assert "Code modifié" in done.stdout


def test_a_code_of_another_service_exits_21(service, tmp_path):
    _signer, home = service
    other = load_or_create_signer(tmp_path, create_ca("other"))
    done = run(home, "--code", encode(STATEMENT, other))
    assert done.returncode == 21
    assert "clé inconnue" in done.stdout


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("--code", "-"), ""),
        (("--code", ""), ""),
        (("--code", "DMP1:" + "8" * 9_995), ""),
        (("--code", "-"), "DMP1:" + "A" * 9_995 + "\n"),
        (("--code", "-"), "DMP1:NCF\x1b[31mOXN\x00%TS\x07\n"),
        (("--code", "-"), "DMP1:NCFOXN%TSMAHN"),
    ],
    ids=["empty stdin", "empty", "10000 chars", "10000 chars stdin", "control", "cut short"],
)
def test_bad_input_is_one_sentence_and_exit_22(service, args, stdin):
    _signer, home = service
    done = run(home, *args, stdin=stdin)
    assert done.returncode == 22, done.stderr
    assert done.stdout.startswith("Code illisible")
    assert "Traceback" not in done.stderr and done.stderr == ""


def test_undecodable_bytes_on_stdin_are_unreadable(service):
    _signer, home = service
    env = dict(os.environ, PROCLIENT_HOME=str(home), PYTHONIOENCODING="utf-8:strict")
    done = subprocess.run(
        [sys.executable, "-m", "proclient", "verify", "--code", "-"],
        capture_output=True,
        env=env,
        input=b"DMP1:\xff\xfe\x80\n",
        timeout=60,
    )
    assert done.returncode == 22 and b"Traceback" not in done.stderr


def test_without_trust_settings_it_says_which_setting(tmp_path):
    done = run(tmp_path, "--code", "DMP1:ABC")
    assert done.returncode == 3
    assert "verify.service_certificates" in done.stderr and "--demo" in done.stderr


def test_demo_trusts_the_embedded_demo_services_certificates(tmp_path):
    from proclient.server.embedded import embedded_app

    app, _pki = embedded_app(tmp_path / "data" / "demo")
    app.state.storage.close()
    signer = app.state.settings.document_signer
    done = run(tmp_path, "--demo", "--code", encode(STATEMENT, signer))
    assert done.returncode == 0, done.stderr + done.stdout
    assert not run(tmp_path / "elsewhere", "--demo", "--code", "x").returncode == 0
