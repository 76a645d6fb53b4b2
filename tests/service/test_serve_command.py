"""`proclient serve` as a real process on loopback over HTTPS, and a second workstation
creating a DMP through it."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from proclient.core.domain import OID_INS_NIR, OID_INS_NIR_TEST, DmpStatus, WebAccess
from proclient.core.settings import Paths, ServiceTable, Settings
from proclient.credentials.software import unlock_demo
from proclient.server.demo import ensure_demo_pki
from proclient.service.client import DmpServiceClient

from .helpers import LE_GOFF, creation, look_up, patient, register_file

CASANOVA = patient("291092A00401281", "19910905", "CASANOVA-ORSINI", "MARIE-ANGE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proclient(home: Path, *args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "PROCLIENT_HOME": str(home)}
    env.pop("PROCLIENT_SERVER_DATABASE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "proclient.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def wait_healthy(url: str, ca: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read())
        if not ca.exists():  # --init-demo has not written it yet
            time.sleep(0.2)
            continue
        try:
            context = ssl.create_default_context(cafile=str(ca))
            if httpx.get(f"{url}/v1/health", verify=context, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("proclient serve never answered")


async def test_second_workstation_creates_a_dmp_through_proclient_serve(tmp_path, database_url):
    home, port = tmp_path / "server-host", free_port()
    database = str(database_url())
    server = proclient(
        home,
        "serve",
        "--init-demo",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database",
        database,
    )
    try:
        ca = home / "data" / "server" / "demo" / "pki" / "ca.pem"
        url = f"https://127.0.0.1:{port}"
        wait_healthy(url, ca, server)
        # The second workstation: its own settings, the demo pharmacist's credential.
        paths = Paths(tmp_path / "w2" / "config", tmp_path / "w2" / "data", tmp_path / "w2" / "log")
        settings = Settings(paths=paths, service=ServiceTable(url=url, ca_bundle=str(ca)))
        pki = ensure_demo_pki(ca.parent)
        async with DmpServiceClient.from_settings(settings) as client:
            await client.login(unlock_demo(pki.default))
            assert (await client.status(CASANOVA.ins)).status is DmpStatus.ACTIVE  # seeded
            await look_up(client, LE_GOFF)  # --init-demo seeded the demo INSi register
            result = await client.submit(
                creation(web=WebAccess(email="gerard.legoff@exemple.fr")), str(uuid.uuid4())
            )
            assert result.web.initial_password
            assert (await client.status(LE_GOFF.ins)).status is DmpStatus.ACTIVE
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    # uvicorn re-raises the SIGTERM it handled, after a clean shutdown.
    assert server.returncode in (0, -signal.SIGTERM), err
    assert "Application shutdown complete" in err
    assert "ca_bundle" in out and str(ca) in out  # --init-demo says where things are
    assert '"POST /v1/dmp HTTP/1.1" 201' in err  # the access log is on…
    assert '"POST /v1/insi/card HTTP/1.1" 200' in err
    for secret in (
        LE_GOFF.ins.value,
        LE_GOFF.last_name,
        LE_GOFF.first_name,
        CASANOVA.ins.value,
        "gerard.legoff",
        result.web.initial_password,
    ):
        assert secret not in err and secret not in out  # …and holds no patient data
    # The answer's statement is signed by the key --init-demo made (issued by the demo CA),
    # which `proclient verify --demo` on that host trusts.
    signing = home / "data" / "server" / "demo" / "document-signing"
    assert (signing / "signing.key").stat().st_mode & 0o077 == 0
    verified = subprocess.run(
        [sys.executable, "-m", "proclient", "verify", "--demo", "--code", result.statement],
        capture_output=True,
        text=True,
        env={**os.environ, "PROCLIENT_HOME": str(home)},
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert result.dmp_id in verified.stdout


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--plain-http", "--host", "0.0.0.0"], "127.0.0.1"),
        ([], "server.trusted_ca"),
        (["--init-demo", "--mode", "production"], "mode test"),
        (["--port", "70000"], "server.port"),
    ],
)
def test_unsafe_or_incomplete_settings_are_one_french_sentence(tmp_path, args, sentence):
    process = proclient(tmp_path, "serve", "--port", str(free_port()), *args)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert sentence in err
    assert "Traceback" not in err


def test_settings_file_server_section_is_read(tmp_path):
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[server]\nmode = "staging"\n', encoding="utf-8")
    process = proclient(tmp_path, "serve")
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and "server.mode" in err


def test_openapi_option_writes_the_document(tmp_path):
    target = tmp_path / "openapi.json"
    process = proclient(tmp_path, "serve", "--openapi", str(target))
    process.communicate(timeout=60)
    assert process.returncode == 0
    repository = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
    assert target.read_text(encoding="utf-8") == repository.read_text(encoding="utf-8")


async def test_an_operator_register_is_loaded_before_serving(tmp_path):
    """`proclient serve --insi-register FILE.json`: the file's people are INSi's answers, and a
    workstation creates a DMP for one of them."""
    nouveau = patient("178127512345643", "19781224", "NOUVEAU", "YVES MARIE")
    register = register_file(tmp_path / "register.json", [nouveau])
    home, port = tmp_path / "server-host", free_port()
    server = proclient(
        home,
        "serve",
        "--init-demo",
        "--insi-register",
        str(register),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database",
        str(tmp_path / "dmp.sqlite3"),
    )
    try:
        ca = home / "data" / "server" / "demo" / "pki" / "ca.pem"
        url = f"https://127.0.0.1:{port}"
        wait_healthy(url, ca, server)
        async with DmpServiceClient(url, verify=str(ca)) as client:
            await client.login(unlock_demo(ensure_demo_pki(ca.parent).default))
            await look_up(client, nouveau, LE_GOFF)  # the file's and the demo's
            created = await client.submit(creation(nouveau), str(uuid.uuid4()))
            assert created.dmp_id
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    assert "Registre INSi : 1 identité(s) chargée(s)." in out
    assert "NOUVEAU" not in out + err and nouveau.ins.value not in out + err


@pytest.mark.parametrize(
    ("mode", "oid", "sentence"),
    [
        ("production", OID_INS_NIR_TEST, "en production"),
        ("test", OID_INS_NIR, "service de test"),
    ],
)
def test_a_register_of_the_other_mode_is_refused_in_one_sentence(
    tmp_path, pki, mode, oid, sentence
):
    wrong = patient("178127512345643", "19781224", "NOUVEAU", "YVES", oid=oid)
    register = register_file(
        tmp_path / "register.json", [LE_GOFF, wrong] if mode == "test" else [wrong]
    )
    process = proclient(
        tmp_path / "home",
        "serve",
        "--plain-http",
        "--trusted-ca",
        str(pki.ca_cert_path),
        "--mode",
        mode,
        "--port",
        str(free_port()),
        "--database",
        str(tmp_path / "dmp.sqlite3"),
        "--insi-register",
        str(register),
    )
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, out + err
    assert sentence in err and "identité n° " in err
    assert "Traceback" not in err and "NOUVEAU" not in err and wrong.ins.value not in err
    assert "Service DMP" not in out  # it never served


def test_the_insi_answer_lifetime_setting_reaches_the_service(tmp_path, pki):
    from datetime import timedelta

    from proclient.server import serving

    config_file = tmp_path / "config" / "config.toml"
    assert served_settings(tmp_path, pki, "insi_answer_ttl = 900").insi_answer_ttl == timedelta(
        minutes=15
    )
    assert (
        serving.load_serve_config(
            Paths(tmp_path / "none", tmp_path / "data", tmp_path / "log")
        ).insi_answer_ttl
        == 3600
    )
    config_file.write_text("[server]\ninsi_answer_ttl = 5\n", encoding="utf-8")
    process = proclient(tmp_path, "serve")
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and "server.insi_answer_ttl" in err


def test_rotate_signing_key_keeps_the_old_certificate_for_verifiers(tmp_path):
    from proclient.server.signing_key import BUNDLE_NAME, read_certificates

    home = tmp_path / "server-host"
    ids = []
    for _turn in range(2):
        done = proclient(home, "serve", "--init-demo", "--rotate-signing-key")
        out, err = done.communicate(timeout=60)
        assert done.returncode == 0, err
        ids.append(out.split("Clé de signature des accusés : ")[1].split(" ")[0])
    assert ids[0] != ids[1]
    folder = home / "data" / "server" / "demo" / "document-signing"
    assert len(list((folder / "keys").glob("*.pem"))) == 1
    assert len(read_certificates(folder / BUNDLE_NAME)) == 2


def test_the_challenge_limit_setting_reaches_the_service(tmp_path, pki):

    config_file = tmp_path / "config" / "config.toml"
    assert served_settings(tmp_path, pki, "challenges_per_minute = 80").challenge_limit == 80
    config_file.write_text("[server]\nchallenges_per_minute = 0\n", encoding="utf-8")
    process = proclient(tmp_path, "serve")
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and "server.challenges_per_minute" in err


def served_settings(tmp_path, pki, line: str):
    """The ServerSettings `proclient serve` builds from a config.toml whose [server] table
    holds ``line``."""
    from proclient.server import serving

    config_file = tmp_path / "config" / "config.toml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f"[server]\n{line}\n", encoding="utf-8")
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "log")
    config = serving.load_serve_config(
        paths, trusted_ca=pki.ca_cert_path, plain_http=True, database=str(tmp_path / "d.db")
    )
    app = serving.build_app(config)
    app.state.storage.close()
    return app.state.settings
