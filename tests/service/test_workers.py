"""`proclient serve --workers 2`: two service processes behind one address, on one database.

A real ``proclient serve`` subprocess over HTTPS on 127.0.0.1, with the demo material, on the
test PostgreSQL. Which worker answers a new connection is the kernel's choice; to choose it,
the tests stop the other worker (SIGSTOP) while they open connections, and keep those
connections (HTTP keep-alive) for the requests that follow. The log says which process
answered each request: with several workers, every line names its process.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from proclient.core.domain import WebAccess
from proclient.credentials.software import SoftwareCredential, unlock_demo
from proclient.server.demo import DemoPki, ensure_demo_pki
from proclient.server.settings import ServerSettings
from proclient.server.storage import Storage
from proclient.service.client import creation_body

from .conftest import require_postgres
from .helpers import creation, look_up_http, make_nir, patient, put_in_register
from .serve_process import children, free_port, login_at, only_worker, stat, wait_until

ACCESS = re.compile(
    r"uvicorn\.access \[(?P<pid>\d+)\] [\d.]+:\d+ - "
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3})'
)


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def alive(pid: int) -> bool:
    fields = stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")  # a zombie no longer runs


@dataclass
class Service:
    process: subprocess.Popen
    url: str
    pki: DemoPki
    context: ssl.SSLContext
    log: Path  # the service's stderr
    port: int
    database: str

    def workers(self) -> list[int]:
        """The supervisor's worker processes (not multiprocessing's resource tracker)."""
        found = children(self.process.pid)
        return sorted(pid for pid, cmdline in found.items() if b"spawn_main" in cmdline)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def mark(self) -> int:
        return self.log.stat().st_size

    def access(self, since: int = 0) -> list[re.Match]:
        with self.log.open("rb") as handle:
            handle.seek(since)
            text = handle.read().decode("utf-8", "replace")
        return list(ACCESS.finditer(text))

    def served(self, since: int, path: str, count: int) -> list[tuple[int, int]]:
        """(pid, status) of the ``count`` requests to ``path`` logged after ``since``."""

        def lines() -> list[tuple[int, int]]:
            return [
                (int(m["pid"]), int(m["status"])) for m in self.access(since) if m["path"] == path
            ]

        wait_until(lambda: len(lines()) >= count, f"{count} access lines for {path}", 10)
        return lines()

    def only(self, worker: int):
        """Only ``worker`` accepts connections in this block (serve_process.only_worker)."""
        return only_worker(self.workers(), worker)


def start_service(home: Path, database: str, *options: str) -> Service:
    """``proclient serve --init-demo --workers 2`` on a free loopback port, both workers up."""
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    log = home / "serve.log"
    env = {**os.environ, "PROCLIENT_HOME": str(home)}
    env.pop("PROCLIENT_SERVER_DATABASE", None)
    with log.open("ab") as stderr:  # O_APPEND: the supervisor and the workers share it
        process = subprocess.Popen(
            [sys.executable, "-m", "proclient.cli", "serve", "--init-demo", "--workers", "2"]
            + ["--host", "127.0.0.1", "--port", str(port), "--database", database, *options],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    ca = home / "data" / "server" / "demo" / "pki" / "ca.pem"
    service = None
    try:

        def started() -> bool:
            if process.poll() is not None:
                raise AssertionError(log.read_text())
            workers = children(process.pid)
            text = log.read_text(encoding="utf-8", errors="replace")
            up = [
                pid
                for pid, cmdline in workers.items()
                if b"spawn_main" in cmdline and f"[{pid}] Application startup complete" in text
            ]
            return len(up) == 2 and ca.exists()

        wait_until(started, "two workers started", 60)
        context = ssl.create_default_context(cafile=str(ca))
        service = Service(
            process,
            f"https://127.0.0.1:{port}",
            ensure_demo_pki(ca.parent),
            context,
            log,
            port,
            database,
        )
        assert httpx.get(f"{service.url}/v1/health", verify=context).status_code == 200
        return service
    finally:
        if service is None:
            process.kill()
            process.wait(30)


def stop_service(service: Service) -> None:
    if service.process.poll() is None:
        service.process.send_signal(signal.SIGTERM)
        try:
            service.process.wait(60)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait(30)


def login(service: Service, credential: SoftwareCredential) -> str:
    return login_at(service.url, service.context, credential)


async def pinned(service: Service, worker: int, count: int) -> list[httpx.AsyncClient]:
    """``count`` clients, each holding one open connection that ``worker`` accepted."""
    clients = [
        httpx.AsyncClient(base_url=service.url, verify=service.context) for _ in range(count)
    ]
    with service.only(worker):
        answers = await asyncio.gather(*(client.get("/v1/health") for client in clients))
    assert all(answer.status_code == 200 for answer in answers)
    return clients


def count_dmps(service: Service, nirs: list[str]) -> int:
    storage = Storage(service.database)
    try:
        with storage.read() as conn:
            rows = conn.execute("SELECT ins_value FROM dmps").fetchall()
    finally:
        storage.close()
    return sum(1 for (value,) in rows if value in nirs)


def insi_ready(service: Service, tokens: list[str], people: list) -> None:
    """``people`` in the service's INSi register (written through a Storage on its database)
    and looked up by each professional of ``tokens``."""
    storage = Storage(service.database)
    try:
        put_in_register(storage, *people)
    finally:
        storage.close()
    with httpx.Client(base_url=service.url, verify=service.context) as http:
        for token in tokens:
            look_up_http(http, *people, headers={"Authorization": f"Bearer {token}"})


# --- on PostgreSQL: one service for the module --------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    import psycopg

    admin = require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    running = None
    try:
        database = f"{admin}?options=-csearch_path%3D{schema}"
        running = start_service(tmp_path_factory.mktemp("workers"), database)
        yield running
    finally:
        if running is not None:
            stop_service(running)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="module")
def tokens(service: Service) -> dict[str, str]:
    """A session for each demo professional, opened before any test spends a rate limit."""
    return {
        demo.professional.id_nat: login(service, unlock_demo(demo))
        for demo in service.pki.professionals
    }


@pytest.mark.slow
def test_two_processes_answer_behind_one_address(service: Service):
    workers = service.workers()
    assert len(workers) == 2 and service.process.pid not in workers
    for worker in workers:
        since = service.mark()
        with service.only(worker):
            with httpx.Client(verify=service.context) as http:  # a new connection
                assert http.get(f"{service.url}/v1/health").status_code == 200
        assert service.served(since, "/v1/health", 1) == [(worker, 200)]


@pytest.mark.slow
async def test_concurrent_creations_across_processes_make_no_duplicate(service, tokens):
    """40 creations at once for 10 patients, from three professionals, each with its own key,
    20 through each worker: 10 DMPs, 10 × 201, 30 × 409 DMPFound, nothing else."""
    patients = [patient(make_nir(1, 1980, "01", 200 + n), "19800115") for n in range(10)]
    ids = list(tokens)
    insi_ready(service, list(tokens.values()), patients)
    first, second = service.workers()
    clients = await pinned(service, first, 20) + await pinned(service, second, 20)
    since = service.mark()
    try:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/v1/dmp",
                    json=creation_body(creation(patients[n % 10])),
                    headers={
                        "Authorization": f"Bearer {tokens[ids[n % len(ids)]]}",
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                )
                for n, client in enumerate(clients)
            )
        )
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 10 + [409] * 30, [a.text for a in answers if a.status_code >= 500]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"DMPFound"}
    created = [a.json()["dmp_id"] for a in answers if a.status_code == 201]
    assert len(set(created)) == 10
    assert count_dmps(service, [p.ins.value for p in patients]) == 10
    served = service.served(since, "/v1/dmp", 40)
    assert sorted(pid for pid, _status in served) == [first] * 20 + [second] * 20
    # Both workers appended to one audit chain (server/journal.py): it verifies whole.
    storage = Storage(service.database)
    try:
        verdict = storage.journal.verify(storage.db)
        with storage.read() as conn:
            created_lines = conn.execute(
                "SELECT COUNT(*) FROM audit WHERE action = 'creation'"
            ).fetchone()[0]
    finally:
        storage.close()
    assert verdict.outcome == "valid", verdict
    assert created_lines >= 10


@pytest.mark.slow
@pytest.mark.parametrize("web", [True, False], ids=["with-web-access", "without"])
async def test_one_key_sent_to_both_processes_at_once_makes_one_dmp(service, tokens, web):
    """The same creation under one key, 4 times through each worker at once: one DMP (and one
    password); every other answer replays it or is 409 in progress. Three rounds: whether the
    two workers' transactions overlap is up to the scheduler."""
    token = next(iter(tokens.values()))
    for turn in range(3):
        who = patient(make_nir(2, 1985, "06", 300 + 10 * web + turn), "19850620", "MOREAU", "INES")
        insi_ready(service, [token], [who])
        email = WebAccess(email="ines.moreau@exemple.fr") if web else None
        body = creation_body(creation(who, web=email))
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        first, second = service.workers()
        clients = await pinned(service, first, 4) + await pinned(service, second, 4)
        since = service.mark()
        try:
            answers = await asyncio.gather(
                *(client.post("/v1/dmp", json=body, headers=headers) for client in clients)
            )
        finally:
            await asyncio.gather(*(client.aclose() for client in clients))
        assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
        busy = [a for a in answers if a.status_code == 409]
        assert {a.json()["code"] for a in busy} <= {"IDEMPOTENCY_IN_PROGRESS"}, busy[0].text
        # Each worker answered at least one 201: one of them replayed the other's creation.
        served = service.served(since, "/v1/dmp", 8)
        assert {pid for pid, status in served if status == 201} == {first, second}
        done = [a for a in answers if a.status_code == 201]
        original = [a for a in done if "Idempotent-Replayed" not in a.headers]
        replays = [a for a in done if a.headers.get("Idempotent-Replayed") == "true"]
        assert len(original) == 1 and len(original) + len(replays) == len(done)
        with httpx.Client(base_url=service.url, verify=service.context) as http:
            replays.append(http.post("/v1/dmp", json=body, headers=headers))
        assert replays[-1].headers.get("Idempotent-Replayed") == "true"
        expected = created = original[0].json()
        if web:
            assert created["web_access"]["initial_password"]
            hidden = {"initial_password": None, "already_issued": True}
            expected = {**created, "web_access": {**created["web_access"], **hidden}}
        assert all(replay.json() == expected for replay in replays)
        assert count_dmps(service, [who.ins.value]) == 1


@pytest.mark.slow
async def test_failed_logins_spread_over_both_processes_share_one_limit(service, tokens):
    """Bad signatures for one certificate, each on a new connection, alternately on each
    worker: the service answers 429 after the same number of failures as one process does."""
    limit = next(
        f.default for f in dataclasses.fields(ServerSettings) if f.name == "auth_failure_limit"
    )
    credential = unlock_demo(service.pki.professionals[-1])
    workers = service.workers()

    async def attempt(worker: int) -> httpx.Response:
        with service.only(worker):
            async with httpx.AsyncClient(base_url=service.url, verify=service.context) as http:
                challenge = (await http.post("/v1/auth/challenge")).json()
                signature = bytearray(credential.sign(base64.b64decode(challenge["nonce"])))
                signature[0] ^= 0xFF  # a bad signature: a refusal
                return await http.post(
                    "/v1/auth/session",
                    json={
                        "challenge_id": challenge["challenge_id"],
                        "certificate": credential.certificate_pem.decode(),
                        "signature": base64.b64encode(bytes(signature)).decode(),
                    },
                )

    since = service.mark()
    for n in range(limit):
        refused = await attempt(workers[n % 2])
        assert (refused.status_code, refused.json().get("code")) == (401, "AUTH_BAD_SIGNATURE")
    for worker in workers:  # the next refusal is 429, on either worker
        limited = await attempt(worker)
        assert (limited.status_code, limited.json().get("code")) == (429, "AUTH_RATE_LIMITED")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
    served = service.served(since, "/v1/auth/session", limit + 2)
    assert [pid for pid, _status in served] == [workers[n % 2] for n in range(limit)] + workers


# --- start-up and shutdown ---------------------------------------------------------------------


@pytest.mark.slow
def test_sigterm_stops_every_worker_after_serving_on_sqlite(tmp_path):
    """SQLite with two workers serves too; SIGTERM to the supervisor ends every process it
    started (workers and multiprocessing's helper) and frees the port."""
    database = f"sqlite:///{tmp_path / 'dmp.sqlite3'}"
    service = start_service(tmp_path / "home", database)
    try:
        token = login(service, unlock_demo(service.pki.default))
        descendants = set(children(service.process.pid))
        workers = service.workers()
        assert len(workers) == 2 and set(workers) < descendants
        people = [patient(make_nir(1, 1990, "03", 400 + n), "19900310") for n in range(2)]
        insi_ready(service, [token], people)
        since = service.mark()
        for n, worker in enumerate(workers):
            who = people[n]
            with service.only(worker), httpx.Client(verify=service.context) as http:
                created = http.post(
                    f"{service.url}/v1/dmp",
                    json=creation_body(creation(who)),
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(n)},
                )
            assert created.status_code == 201, created.text
        assert service.served(since, "/v1/dmp", 2) == [(workers[0], 201), (workers[1], 201)]
    finally:
        service.process.send_signal(signal.SIGTERM)
        returncode = service.process.wait(60)
    assert returncode == 0, service.text()
    wait_until(lambda: not any(alive(pid) for pid in descendants), "every process to end")
    text = service.text()
    for worker in workers:
        assert f"[{worker}] Application shutdown complete" in text
    assert "Traceback" not in text
    assert port_is_free(service.port)


@pytest.mark.slow
def test_workers_end_when_the_supervisor_is_killed(tmp_path):
    """Even a SIGKILL of the supervisor leaves no orphan worker holding the port."""
    service = start_service(tmp_path / "home", f"sqlite:///{tmp_path / 'dmp.sqlite3'}")
    workers = service.workers()
    try:
        service.process.kill()
        service.process.wait(30)
        wait_until(lambda: not any(alive(pid) for pid in workers), "the workers to end")
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert port_is_free(service.port)


@pytest.mark.slow
def test_workers_that_cannot_start_stop_the_supervisor(tmp_path):
    """A worker that fails to build its app ends the supervisor with a failure, instead of
    being restarted forever (here the CA file holds no certificate; ``proclient serve``
    would have refused it before spawning anything)."""
    trusted = tmp_path / "ca.pem"
    trusted.write_text("not a certificate\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from proclient.server import processes, serving\n"
        "serving.console_logging(with_pid=True)\n"
        "config = serving.ServeConfig(\n"
        f"    database={str(tmp_path / 'dmp.sqlite3')!r}, port={free_port()},\n"
        f"    trusted_ca=Path({str(trusted)!r}), plain_http=True, workers=2,\n"
        ")\n"
        "sys.exit(0 if processes.serve_workers(config) else 1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert "worker start-up refused (SERVER_CONFIG)" in done.stderr
    assert "died" not in done.stderr  # not restarted: stopped


def test_workers_setting_and_option(tmp_path):
    from proclient.core.settings import Paths
    from proclient.server.serving import load_serve_config

    home = tmp_path / "home"
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[server]\nworkers = 3\n", encoding="utf-8")
    paths = Paths(home / "config", home / "data", home / "log")
    assert load_serve_config(paths).workers == 3
    assert load_serve_config(paths, workers=2).workers == 2
    env = {**os.environ, "PROCLIENT_HOME": str(tmp_path / "other")}
    refused = subprocess.run(
        [sys.executable, "-m", "proclient.cli", "serve", "--workers", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and "server.workers" in refused.stderr
    assert "Traceback" not in refused.stderr
