"""The floor of the service's CPU per creation: the same server stack with no work behind it.

A minimal FastAPI app, served by the service's own uvicorn settings
(proclient.server.serving.uvicorn_server: TLS with the service's context factory, its HTTP
protocol class with the connection limits, access log on, logging as ``proclient serve``
sets it), answering a fixed JSON to the two POSTs a creation makes: the INSi look-up by card
then the TD1.1, each with the body, headers (bearer token, Idempotency-Key) and answer size
of the real ones. The routes read the body and return fixed bytes: no validation, no
database, no thread pool (``bare``), or the service's route shape (``routes``), or that shape
with one durable write transaction per request on the service's Database (``durable``: the
work no creation may skip). N clients over HTTPS keep-alive, as server_throughput.py's
workstations; the server's CPU (user + system, /proc) per pair of requests.

    .venv/bin/python benchmarks/cpu_floor.py [--clients 8] [--pairs 1500]
        [--style bare|routes|durable] [--database URL]

server_throughput.py imports :func:`measure_floor` and prints the ratio in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

HERE = Path(__file__).resolve().parent

# The real answers' sizes, roughly: an INSi 00 with one identity, a creation with its
# signed statement (measured on the demo service: ~330 and ~590 bytes).
INSI_ANSWER = {
    "code": "00",
    "identity": {
        "ins": {"value": "180017500000046", "oid": "1.2.250.1.213.1.4.10"},
        "history": [],
        "traits": {
            "birth_name": "BENCH",
            "given_names": ["PATIENT"],
            "sex": "M",
            "birth_date": "19800101",
            "birthplace": "75056",
        },
    },
}
CREATION_ANSWER = {
    "dmp_id": "DMP-ABCD-EFGH-JKMN",
    "action": "creation",
    "created_at": "2026-01-01T00:00:00+00:00",
    "web_access": None,
    "statement": "X" * 440,
}


STYLES = ("bare", "routes")
# Not a floor of the stack but of the work no creation can skip: the routes' shape with one
# durable write transaction each (BEGIN, one INSERT of the body, COMMIT flushed to disk) on
# the service's own Database class, so SQLite's WAL with synchronous=FULL and its write lock,
# or the PostgreSQL pool with synchronous_commit, exactly as the service commits.
DURABLE = "durable"


def floor_app(style: str = "bare", database: str | None = None) -> FastAPI:
    """Two POST routes answering fixed JSON. ``bare``: ``async`` routes that read the body
    and return fixed bytes (the stack's floor). ``routes``: plain ``def`` routes, as the
    service's, which FastAPI runs in its thread pool, taking the body as a JSON object and
    answering a JSONResponse of a fixed dict (the floor of the service's route shape)."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    if style == DURABLE:
        return _durable_routes(app, database)

    @app.get("/v1/health")
    async def health() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    if style == "routes":

        @app.post("/v1/insi/card")
        def insi_card_routes(body: dict) -> JSONResponse:
            return JSONResponse(INSI_ANSWER)

        @app.post("/v1/dmp", status_code=201)
        def create_routes(body: dict) -> JSONResponse:
            return JSONResponse(CREATION_ANSWER, status_code=201)

        return app

    insi = json.dumps(INSI_ANSWER, separators=(",", ":")).encode()
    creation = json.dumps(CREATION_ANSWER, separators=(",", ":")).encode()

    @app.post("/v1/insi/card")
    async def insi_card(request: Request) -> Response:
        await request.body()
        return Response(insi, media_type="application/json")

    @app.post("/v1/dmp", status_code=201)
    async def create(request: Request) -> Response:
        await request.body()
        return Response(creation, status_code=201, media_type="application/json")

    return app


def _durable_routes(app: FastAPI, database: str | None) -> FastAPI:
    from proclient.server.database import open_database

    db = open_database(database)
    with db.transaction() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS floor_writes (body TEXT NOT NULL)")

    def write(body: dict) -> None:
        with db.transaction() as conn:
            conn.execute("INSERT INTO floor_writes (body) VALUES (?)", (json.dumps(body),))

    @app.get("/v1/health")
    async def health() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.post("/v1/insi/card")
    def insi_card_durable(body: dict) -> JSONResponse:
        write(body)
        return JSONResponse(INSI_ANSWER)

    @app.post("/v1/dmp", status_code=201)
    def create_durable(body: dict) -> JSONResponse:
        write(body)
        return JSONResponse(CREATION_ANSWER, status_code=201)

    return app


def serve(home: Path, port: int, style: str, database: str | None = None) -> None:
    """The floor server (this process): the demo TLS certificate, the service's settings."""
    from proclient.server import serving
    from proclient.server.demo import ensure_demo_pki, ensure_demo_tls

    pki = ensure_demo_pki(home / "pki")
    certificate, key = home / "server.pem", home / "server.key"
    ensure_demo_tls(pki, certificate, key, ["localhost", "127.0.0.1"])
    database = database or f"sqlite:///{home / 'floor.sqlite3'}"
    config = serving.ServeConfig(
        database=database,
        host="127.0.0.1",
        port=port,
        certificate=certificate,
        key=key,
        trusted_ca=pki.ca_cert_path,
    )
    serving.console_logging()
    serving.uvicorn_server(config, floor_app(style, database)).run()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _bodies() -> tuple[dict, dict]:
    """The INSi look-up and the TD1.1 bodies server_throughput.py sends (one patient)."""
    sys.path.insert(0, str(HERE))
    from server_throughput import card, request

    from proclient.service.client import card_query_body, creation_body

    return card_query_body(card(1)), creation_body(request(1))


async def _client(url: str, ca: Path, pairs: int, bodies: tuple[dict, dict]) -> None:
    insi, creation = bodies
    context = ssl.create_default_context(cafile=str(ca))
    headers = {"Accept": "application/json, application/problem+json"}
    bearer = {"Authorization": "Bearer " + "t" * 43}
    async with httpx.AsyncClient(base_url=url, verify=context, headers=headers) as http:
        for index in range(pairs):
            answer = await http.post("/v1/insi/card", json=insi, headers=bearer)
            answer.raise_for_status()
            answer.json()
            key = {**bearer, "Idempotency-Key": f"{index:08d}-0000-4000-8000-000000000000"}
            answer = await http.post("/v1/dmp", json=creation, headers=key)
            answer.raise_for_status()
            answer.json()


async def _run(url: str, ca: Path, clients: int, pairs: int, bodies) -> float:
    shares = [len(range(i, pairs, clients)) for i in range(clients)]
    started = time.perf_counter()
    await asyncio.gather(*(_client(url, ca, share, bodies) for share in shares))
    return time.perf_counter() - started


def measure_floor(
    clients: int, pairs: int, style: str = "bare", database: str | None = None
) -> tuple[float, float]:
    """(server CPU ms per pair, pairs per second) of the floor app, after a warm-up.
    ``database``: the durable floor's URL (default a SQLite file in a temporary folder)."""
    from serve_kit import free_port, stop_service

    bodies = _bodies()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        port = free_port()
        import proclient

        root = str(Path(proclient.__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join((root, str(HERE)))}
        command = [sys.executable, str(HERE / "cpu_floor.py"), "--serve", str(port), str(home)]
        command += ["--style", style]
        if database:
            command += ["--database", database]
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            url = f"https://127.0.0.1:{port}"
            sys.path.insert(0, str(HERE))
            from serve_kit import wait_healthy

            wait_healthy(url, home / "pki" / "ca.pem", process, what="the floor server")
            ca = home / "pki" / "ca.pem"
            asyncio.run(_run(url, ca, clients, min(200, pairs), bodies))
            before = cpu_seconds(process.pid)
            elapsed = asyncio.run(_run(url, ca, clients, pairs, bodies))
            cpu = cpu_seconds(process.pid) - before
        finally:
            stop_service(process)
    return cpu / pairs * 1000, pairs / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=1500)
    parser.add_argument(
        "--style", choices=(*STYLES, DURABLE), default=None, help="one floor (default all)"
    )
    parser.add_argument("--database", help="the durable floor's database URL (default SQLite)")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[1]), int(args.serve[0]), args.style or "bare", args.database)
        return
    sys.path.insert(0, str(HERE))
    for style in (args.style,) if args.style else (*STYLES, DURABLE):
        cpu, rate = measure_floor(args.clients, args.pairs, style, args.database)
        print(
            f"floor ({style}): {rate:6.1f} pairs/s, server CPU {cpu:.2f} ms per pair "
            f"({args.clients} clients, {args.pairs} pairs, HTTPS keep-alive)"
        )


if __name__ == "__main__":
    main()
