"""The audit trail's pseudonymisation key lives in a file (0600), never in the database: a new
service makes it, an older database hands its key over, a mismatch stops the service with one
French sentence; on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from proclient.core.domain import DomainError
from proclient.server import serving
from proclient.server.demo import demo_patient_ins
from proclient.server.embedded import embedded_app
from proclient.server.pseudonym_key import KEY_FILE_NAME
from proclient.server.storage import PseudonymKeyError, Storage
from proclient.service.client import DmpServiceClient

from .helpers import LE_GOFF, creation, look_up, put_in_register

TABLES = (
    "meta",
    "challenges",
    "sessions",
    "dmps",
    "consents",
    "authorizations",
    "audit",
    "insi_identities",
    "insi_history",
    "insi_answers",
)


def serve_config(database, directory: Path, **options) -> serving.ServeConfig:
    """The service's settings with its TLS key in ``directory/etc`` (the key file's default
    place) and the demo CA trusted."""
    return serving.ServeConfig(
        database=str(database),
        key=directory / "etc" / "server.key",
        data_dir=directory / "data",
        **options,
    )


@contextmanager
def running(app, tls) -> Iterator[str]:
    """``app`` served by a real uvicorn over HTTPS on loopback; its database closed after."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, ssl_certfile=str(tls.cert), ssl_keyfile=str(tls.key), log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.01)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.storage.close()


def stored_bytes(storage: Storage) -> bytes:
    """Everything the database keeps: the SQLite files (with -wal and -shm), or every value
    of every table on PostgreSQL (bytes as they are, the rest as text)."""
    if storage.db.dialect == "sqlite":
        database = storage.path
        return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    values = []
    with storage.read() as conn:
        for table in TABLES:
            for row in conn.execute(f"SELECT * FROM {table}").fetchall():  # noqa: S608
                for value in row:
                    is_bytes = isinstance(value, bytes | memoryview)
                    values.append(bytes(value) if is_bytes else str(value).encode())
    return b"\x00".join(values)


def assert_not_stored(storage: Storage, key: bytes) -> None:
    stored = stored_bytes(storage)
    for form in (key, base64.b64encode(key), key.hex().encode()):
        assert form not in stored


def meta_names(storage: Storage) -> set[str]:
    with storage.read() as conn:
        return {row[0] for row in conn.execute("SELECT name FROM meta").fetchall()}


def audit_refs(storage: Storage) -> set[str]:
    with storage.read() as conn:
        rows = conn.execute("SELECT patient_ref FROM audit WHERE patient_ref IS NOT NULL")
        return {row[0] for row in rows.fetchall()}


def patient_ref(key: bytes, ins) -> str:
    data = f"patient|{ins.oid}|{ins.value}".encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:32]


def refusal(config: serving.ServeConfig) -> str:
    with pytest.raises(DomainError) as refused:
        serving.build_app(config)
    assert refused.value.code == "SERVER_CONFIG"
    return refused.value.message


async def test_the_key_file_is_private_and_the_database_never_holds_the_key(
    database_url, tmp_path, tls, pki, credential
):
    config = serve_config(database_url(), tmp_path, trusted_ca=pki.ca_cert_path)
    app = serving.build_app(config)
    key_path = tmp_path / "etc" / KEY_FILE_NAME
    assert key_path.stat().st_mode & 0o777 == 0o600
    key = base64.b64decode(key_path.read_bytes().strip(), validate=True)
    assert len(key) == 32 and app.state.settings.pseudonym_secret == key

    with running(app, tls) as url:
        client = DmpServiceClient(url, verify=tls.context)
        try:
            put_in_register(app.state.storage, LE_GOFF)
            await client.login(credential)
            await look_up(client, LE_GOFF)
            await client.submit(creation(), str(uuid.uuid4()))
        finally:
            await client.aclose()
        storage = app.state.storage
        assert audit_refs(storage) == {patient_ref(key, LE_GOFF.ins)}  # the file's key is used
        assert meta_names(storage) == {"pseudonym_key_check"}
        assert LE_GOFF.ins.value.encode() in stored_bytes(storage)  # the scan reads the data
        assert_not_stored(storage, key)

    # The next start reads the same key, also written raw, and makes a loose file private.
    key_path.write_bytes(key)
    key_path.chmod(0o644)
    again = serving.build_app(config)
    try:
        assert again.state.settings.pseudonym_secret == key
        assert again.state.storage.patient_ref(LE_GOFF.ins) == patient_ref(key, LE_GOFF.ins)
        assert key_path.stat().st_mode & 0o777 == 0o600
    finally:
        again.state.storage.close()


def make_older_database(url, legacy: bytes) -> None:
    """A database as an older release left it: its key in meta, an audit line made with it."""
    old = Storage(url)
    try:
        old.db.migrate()
        with old.transaction() as conn:
            conn.execute("INSERT INTO meta (name, value) VALUES ('pseudonym_secret', ?)", (legacy,))
        old._secret = legacy  # as the older release's initialize() did
        identity = {"last_name": "LE GOFF", "first_name": "Gérard", "birth_date": "19520314"}
        old.seed_dmp(LE_GOFF.ins, identity, "active")
    finally:
        old.close()


def test_an_older_database_hands_its_key_over_to_the_file(database_url, tmp_path, pki):
    url, legacy = database_url(), secrets.token_bytes(32)
    make_older_database(url, legacy)
    config = serve_config(url, tmp_path, trusted_ca=pki.ca_cert_path)

    app = serving.build_app(config)
    try:
        key_path = tmp_path / "etc" / KEY_FILE_NAME
        assert base64.b64decode(key_path.read_bytes()) == legacy
        assert key_path.stat().st_mode & 0o777 == 0o600
        storage = app.state.storage
        # The existing audit references still match, and the database forgot the key.
        assert audit_refs(storage) == {storage.patient_ref(LE_GOFF.ins)}
        assert meta_names(storage) == {"pseudonym_key_check"}
        assert_not_stored(storage, legacy)
    finally:
        app.state.storage.close()

    again = serving.build_app(config)
    again.state.storage.close()
    assert again.state.settings.pseudonym_secret == legacy


def test_a_key_file_that_differs_from_the_database_stops_the_start(database_url, tmp_path, pki):
    url, legacy = database_url(), secrets.token_bytes(32)
    make_older_database(url, legacy)
    config = serve_config(url, tmp_path, trusted_ca=pki.ca_cert_path)
    key_path = tmp_path / "etc" / KEY_FILE_NAME
    key_path.parent.mkdir()
    other = base64.b64encode(secrets.token_bytes(32)) + b"\n"
    key_path.write_bytes(other)

    message = refusal(config)
    assert "différente" in message and str(key_path) in message
    # Nothing was changed: the database keeps its key, the file its own.
    assert key_path.read_bytes() == other
    storage = Storage(url)
    try:
        assert storage.pseudonym_state() == (legacy, None)
    finally:
        storage.close()

    # The same through `proclient serve`: one French sentence, no traceback.
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(
        f'[server]\npseudonym_key = "{key_path}"\n', encoding="utf-8"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PROCLIENT_HOME": str(home)}
    env.pop("PROCLIENT_SERVER_DATABASE", None)
    process = subprocess.run(
        [sys.executable, "-m", "proclient.cli", "serve", "--plain-http", "--port", str(port)]
        + ["--database", str(url), "--trusted-ca", str(pki.ca_cert_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 1
    assert "clé de pseudonymisation différente" in process.stderr
    assert "Traceback" not in process.stderr


def test_a_database_used_with_a_key_refuses_another_key_or_none(database_url, tmp_path, pki):
    url = database_url()
    config = serve_config(url, tmp_path, trusted_ca=pki.ca_cert_path)
    serving.build_app(config).state.storage.close()
    key_path = tmp_path / "etc" / KEY_FILE_NAME

    key_path.unlink()  # a second host without a copy of the file
    message = refusal(config)
    assert "n'existe pas" in message and "copiez" in message
    assert not key_path.exists()  # no new key was made

    key_path.write_bytes(base64.b64encode(secrets.token_bytes(32)))
    assert "n'est pas celui de cette base" in refusal(config)

    throw_away = Storage(url)  # a store without the key
    try:
        with pytest.raises(PseudonymKeyError):
            throw_away.initialize()
    finally:
        throw_away.close()


def test_where_the_key_file_is(tmp_path):
    data = tmp_path / "data"
    with_key = serving.ServeConfig(database="postgresql://db/dmp", key=tmp_path / "tls" / "k.pem")
    assert serving.pseudonym_key_path(with_key) == tmp_path / "tls" / KEY_FILE_NAME
    sqlite = serving.ServeConfig(
        database=f"sqlite:///{tmp_path / 'db' / 'dmp.sqlite3'}", plain_http=True, data_dir=data
    )
    assert serving.pseudonym_key_path(sqlite) == tmp_path / "db" / KEY_FILE_NAME
    postgres = serving.ServeConfig(database="postgresql://db/dmp", plain_http=True, data_dir=data)
    assert serving.pseudonym_key_path(postgres) == data / KEY_FILE_NAME
    chosen = serving.ServeConfig(
        database="postgresql://db/dmp", key=tmp_path / "k.pem", pseudonym_key=tmp_path / "p.key"
    )
    assert serving.pseudonym_key_path(chosen) == tmp_path / "p.key"


def test_the_setting_reaches_the_serve_config(tmp_path):
    from proclient.core.settings import Paths

    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "log")
    paths.config_dir.mkdir(parents=True)
    (paths.config_dir / "config.toml").write_text(
        '[server]\npseudonym_key = "~/audit.key"\n', encoding="utf-8"
    )
    config = serving.load_serve_config(paths)
    assert config.pseudonym_key == Path("~/audit.key").expanduser()
    assert config.data_dir == serving.server_dir(paths)


def test_the_embedded_demo_service_keeps_its_key_in_its_data_dir(tmp_path):
    app, _pki = embedded_app(tmp_path)
    try:
        key = base64.b64decode((tmp_path / KEY_FILE_NAME).read_bytes())
        assert (tmp_path / KEY_FILE_NAME).stat().st_mode & 0o777 == 0o600
        storage = app.state.storage
        seeded = audit_refs(storage)
        casanova = demo_patient_ins("291092A00401281")
        assert patient_ref(key, casanova) in seeded  # the seeding used the file's key
        assert meta_names(storage) == {"pseudonym_key_check"}
        assert_not_stored(storage, key)
    finally:
        app.state.storage.close()
    again, _pki = embedded_app(tmp_path, reset_demo=True)
    try:
        assert again.state.settings.pseudonym_secret == key
        assert audit_refs(again.state.storage) >= seeded
    finally:
        again.state.storage.close()
