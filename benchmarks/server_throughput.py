"""DMP creations per second through `proclient serve` on loopback over HTTPS, with N
concurrent workstations, on SQLite and on PostgreSQL.

Target: 170 creations/s = the 2019 national weekly volume (100 300 DMPs created) replayed in
under 10 minutes. Each creation is what a workstation sends for one patient: the INSi look-up
by card (the service requires a recent one) then one TD1.1 without web access (scrypt, for the
initial password, is only paid when the patient asks for online access). The patients are in
an INSi register file given to `proclient serve --insi-register`. p50/p99 are per creation
(both requests).

CPU: the service process's (user + system, not PostgreSQL's) per creation, next to the floor
of benchmarks/cpu_floor.py measured in the same run: a minimal FastAPI app on the service's
uvicorn settings answering fixed JSON to the same pairs of POSTs from as many clients (bare:
async routes returning fixed bytes, the target's floor; routes: plain def routes as the
service's, run in the thread pool, the body parsed); the target is at most twice the floor.
Next to them, on each backend, the durable floor: the routes' shape with one durable write
transaction each on the service's own Database class (SQLite WAL synchronous=FULL, or the
PostgreSQL pool), the work no creation may skip, so the ratio to it says what the service's
own logic costs on top.

    .venv/bin/python benchmarks/server_throughput.py [--clients 16] [--creations 2000]
        [--backend sqlite|postgresql|both] [--no-floor]

PostgreSQL: PROCLIENT_TEST_POSTGRES_URL (scripts/services/postgres.sh sets it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from proclient.core.domain import OID_INS_NIR_TEST, Action, BirthDate, Consent, Ins, Patient, Sex
from proclient.core.identity import CardQuery
from proclient.core.records import CreationRequest
from proclient.credentials.software import unlock_demo
from proclient.server.demo import ensure_demo_pki
from proclient.service.client import DmpServiceClient

TARGET = 100_300 / 600  # creations per second
CPU_TARGET = 2.0  # service CPU per creation, at most this many times the floor's per pair
FLOOR_STYLES = {
    "bare": "async routes, fixed bytes",
    "routes": "def routes in the thread pool, JSON body, JSONResponse",
}
CHALLENGES = 1000  # the benchmark's [server] challenges_per_minute (the service's default: 30)


def nir(serial: int) -> str:
    body = f"1{80 - serial // 1_000_000 % 50:02d}0175{serial % 1_000_000:06d}"[:13]
    return body + f"{97 - int(body) % 97:02d}"


def patient(serial: int) -> Patient:
    """A benchmark patient, with INSi's traits."""
    return Patient(
        Ins(nir(serial), OID_INS_NIR_TEST), "BENCH", "PATIENT", BirthDate("19800101"), Sex.MALE
    )


def request(serial: int) -> CreationRequest:
    return CreationRequest(Action.CREATION, patient(serial), Consent(creation=True))


def card(serial: int) -> CardQuery:
    who = patient(serial)
    return CardQuery(who.last_name, who.first_name, who.birth_date, who.ins.value)


def write_register(path: Path, serials: list[int]) -> Path:
    """The INSi register file naming every benchmark patient."""
    import json

    identities = [
        {
            "ins": {"value": nir(serial), "oid": OID_INS_NIR_TEST},
            "history": [],
            "traits": {
                "birth_name": "BENCH",
                "given_names": ["PATIENT"],
                "sex": "M",
                "birth_date": "19800101",
                "birthplace": "75056",
            },
        }
        for serial in serials
    ]
    path.write_text(json.dumps(identities), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: Path, database: str, register: Path) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    env = {**os.environ, "PROCLIENT_HOME": str(home)}
    # Every client logs in from 127.0.0.1, at the warm-up and again at the measured run: past
    # the service's 30 challenges a minute per address (a pharmacy's setting) with 16 clients.
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"[server]\nchallenges_per_minute = {CHALLENGES}\n", encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proclient.cli",
            "serve",
            "--init-demo",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database",
            database,
            "--insi-register",
            str(register),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ca = home / "data" / "server" / "demo" / "pki" / "ca.pem"
    url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # the register is loaded first
    while time.monotonic() < deadline:
        try:
            context = ssl.create_default_context(cafile=str(ca))
            if httpx.get(f"{url}/v1/health", verify=context, timeout=2).status_code == 200:
                return process, url, ca
        except (OSError, httpx.TransportError):
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("proclient serve did not start")


async def workstation(
    url: str, ca: Path, pki_dir: Path, serials: list[int], latencies: list[float]
) -> None:
    credential = unlock_demo(ensure_demo_pki(pki_dir).default)
    async with DmpServiceClient(url, verify=str(ca)) as client:
        await client.login(credential)
        for serial in serials:
            started = time.perf_counter()
            await client.insi_by_card(card(serial))
            await client.submit(request(serial), str(uuid.uuid4()))
            latencies.append(time.perf_counter() - started)


async def run(url: str, ca: Path, clients: int, creations: int, offset: int) -> tuple:
    pki_dir = ca.parent
    latencies: list[float] = []
    shares = [list(range(offset + i, offset + creations, clients)) for i in range(clients)]
    started = time.perf_counter()
    await asyncio.gather(*(workstation(url, ca, pki_dir, share, latencies) for share in shares))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, p50, p99


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process (Linux /proc), to say who is busy."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    return sum(cpu_times(pid))


def postgres_schema() -> str | None:
    admin = os.environ.get("PROCLIENT_TEST_POSTGRES_URL")
    if not admin:
        return None
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{admin}?options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--creations", type=int, default=2000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor's run")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    warm_up = min(200, args.creations)
    print(
        f"target: {TARGET:.0f} creations/s (100 300 in 10 min); {args.clients} clients, "
        f"{args.creations} creations (each an INSi look-up then TD1.1), {os.cpu_count()} CPUs; "
        f"challenges_per_minute = {CHALLENGES} (all clients log in from one address)"
    )
    floors: dict[str, float] = {}
    if not args.no_floor:
        from cpu_floor import DURABLE, STYLES, measure_floor

        for style in STYLES:
            floors[style], floor_rate = measure_floor(args.clients, args.creations, style)
            print(
                f"{'floor':>10}: {floor_rate:7.1f} pairs/s, server CPU {floors[style]:.2f} ms "
                f"per pair ({style}: {FLOOR_STYLES[style]}; benchmarks/cpu_floor.py)"
            )
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            if backend == "sqlite":
                database = f"sqlite:///{home / 'bench.sqlite3'}"
            else:
                database = postgres_schema()
                if database is None:
                    print("postgresql: skipped (PROCLIENT_TEST_POSTGRES_URL is not set)")
                    continue
            if floors:
                durable_url = database if backend == "postgresql" else None
                durable, durable_rate = measure_floor(
                    args.clients, args.creations, DURABLE, durable_url
                )
                print(
                    f"{'floor':>10}: {durable_rate:7.1f} pairs/s, server CPU {durable:.2f} ms "
                    f"per pair (durable on {backend}: def routes, one durable write "
                    "transaction each through the service's Database; benchmarks/cpu_floor.py)"
                )
            serials = [*range(args.creations), *range(9_000_000, 9_000_000 + warm_up)]
            register = write_register(home / "insi-register.json", serials)
            process, url, ca = start_server(home, database, register)
            try:
                asyncio.run(run(url, ca, args.clients, warm_up, 9_000_000))
                (user, system), client_cpu = cpu_times(process.pid), time.process_time()
                rate, p50, p99 = asyncio.run(run(url, ca, args.clients, args.creations, 0))
                user_after, system_after = cpu_times(process.pid)
                user, system = user_after - user, system_after - system
                server_cpu = user + system
                client_cpu = time.process_time() - client_cpu
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
        verdict = "OK" if rate >= TARGET else "BELOW TARGET"
        print(
            f"{backend:>10}: {rate:7.1f} creations/s  p50 {p50 * 1000:6.1f} ms  "
            f"p99 {p99 * 1000:6.1f} ms  (target {TARGET:.0f}/s: {verdict})"
        )
        service = server_cpu / args.creations * 1000
        print(
            f"{'':>10}  CPU per creation: service {service:.2f} ms "
            f"(user {user / args.creations * 1000:.2f}, system "
            f"{system / args.creations * 1000:.2f}), "
            f"these clients {client_cpu / args.creations * 1000:.2f} ms"
        )
        if floors:
            floor = floors["bare"]
            verdict = "OK" if service <= CPU_TARGET * floor else "ABOVE TARGET"
            print(
                f"{'':>10}  service CPU / floor: {service / floor:.1f}x "
                f"({service:.2f} / {floor:.2f} ms; target <= {CPU_TARGET:.0f}x: {verdict}); "
                f"{service / floors['routes']:.1f}x the routes' floor, "
                f"{service / durable:.1f}x the durable floor"
            )


if __name__ == "__main__":
    main()
