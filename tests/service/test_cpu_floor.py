"""benchmarks/cpu_floor.py, the floors server_throughput.py divides the service's CPU by:
its apps serve the POSTs a creation makes on the service's own uvicorn settings (TLS,
guarded protocol), and the script prints a CPU figure for each; briefly here, so that it
cannot rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_floor_serves_its_apps_and_prints_their_cpu():
    done = subprocess.run(
        [sys.executable, "benchmarks/cpu_floor.py", "--clients", "2", "--pairs", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for style in ("bare", "routes", "durable"):
        found = re.search(
            rf"floor \({style}\):\s+[\d.]+ pairs/s, server CPU ([\d.]+) ms", done.stdout
        )
        assert found is not None, done.stdout


async def test_the_floor_apps_answer_what_a_creation_expects():
    """The two routes answer 200 and 201 with JSON (in process, no server)."""
    import httpx

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from cpu_floor import floor_app
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    for style in ("bare", "routes"):
        transport = httpx.ASGITransport(app=floor_app(style))
        async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
            insi = await client.post("/v1/insi/card", json={"nir": "1"})
            created = await client.post("/v1/dmp", json={"patient": {}})
        assert insi.status_code == 200 and insi.json()["code"] == "00", style
        assert created.status_code == 201 and created.json()["dmp_id"], style


async def test_the_durable_floor_writes_each_request_before_answering(tmp_path):
    """The durable floor's routes commit one row per request to the database they are given,
    before they answer (in process, on SQLite)."""
    import httpx

    from proclient.server.database import open_database

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from cpu_floor import floor_app
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    url = f"sqlite:///{tmp_path / 'floor.sqlite3'}"
    transport = httpx.ASGITransport(app=floor_app("durable", url))
    async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
        insi = await client.post("/v1/insi/card", json={"nir": "1"})
        created = await client.post("/v1/dmp", json={"patient": {"n": 2}})
    assert insi.status_code == 200 and created.status_code == 201
    db = open_database(url)
    try:
        with db.read() as conn:
            rows = [row[0] for row in conn.execute("SELECT body FROM floor_writes").fetchall()]
    finally:
        db.close()
    assert rows == ['{"nir": "1"}', '{"patient": {"n": 2}}']
