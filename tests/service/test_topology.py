"""Several `proclient serve` hosts behind HAProxy (issue 24), the short versions of
benchmarks/topology.py with the real parts: two hosts run with deploy/proclient.service's
ExecStart and Environment, HAProxy with deploy/haproxy.cfg, both as they are, on the test
PostgreSQL; the workstations are the real client, each with its own source address.

- host killed (SIGKILL) under 16 workstations' load, two runs: nothing lost, nothing twice,
  no initial password lost for good, every workstation succeeds again;
- rolling update (SIGTERM, exit, start, ready, one host after the other) under load: no
  failure the workstations see;
- the client's address behind the balancer: what a client says in X-Forwarded-For is
  replaced by HAProxy with its real address, which the hosts believe (they count it); sent
  straight to a host, from an address that is not a trusted proxy, it is not believed.

Skipped without haproxy or PostgreSQL, unless PROCLIENT_REQUIRE_REAL=1.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from server_throughput import write_register  # noqa: E402
from topology import load_run, run_figures  # noqa: E402
from topology_kit import (  # noqa: E402
    HAPROXY_CFG,
    UNIT,
    Topology,
    create_schema,
    drop_schema,
    local_argv,
    unit_command,
    with_schema,
)
from topology_load import Serials, open_workstations  # noqa: E402

from .conftest import POSTGRES_URL  # noqa: E402

pytestmark = pytest.mark.xdist_group("topology")  # one topology per module, one worker

CLIENTS = 16
PATIENTS = 6000


def _missing(reason: str) -> None:
    if os.environ.get("PROCLIENT_REQUIRE_REAL"):
        pytest.fail(reason + " and PROCLIENT_REQUIRE_REAL is set")
    pytest.skip(reason)


# --- the files, as they are --------------------------------------------------------------------


def test_the_unit_runs_proclient_serve_and_drains_within_its_stop_timeout():
    from proclient.core.settings.model import ServerTable

    argv, env = unit_command()
    assert Path(argv[0]).name == "proclient" and argv[1:] == ["serve"]
    assert env["PROCLIENT_HOME"] == "/var/lib/proclient"
    text = UNIT.read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in text.splitlines() if re.match(r"^[A-Za-z]+=", line)
    )
    assert settings["KillSignal"] == "SIGTERM"
    assert settings["Restart"] == "on-failure"
    # The requests' budget, then uvicorn's own graceful wait bounded by the same.
    assert float(settings["TimeoutStopSec"]) > 2 * ServerTable().drain_seconds
    for hardening in ("NoNewPrivileges", "PrivateTmp"):
        assert settings[hardening] == "yes"
    assert settings["ProtectSystem"] == "strict"
    assert settings["ReadWritePaths"] == env["PROCLIENT_HOME"]
    assert settings["User"] == "proclient"


def test_systemd_accepts_the_unit(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze absent")
    # The unit names its installed entry point; here the checkout's stands in for it.
    argv, _ = unit_command()
    entry = Path(sys.executable).with_name("proclient")
    if not entry.exists():
        pytest.skip("no proclient entry point next to this interpreter")
    unit = tmp_path / "proclient.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(argv[0], str(entry)))
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if "proclient.service" in line and "network-online.target" not in line
    ]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr


def test_haproxy_accepts_its_configuration(tmp_path: Path):
    if shutil.which("haproxy") is None:
        _missing("haproxy absent")
    pem = tmp_path / "any.pem"
    from proclient.server.demo import ensure_demo_pki, ensure_demo_tls

    pki = ensure_demo_pki(tmp_path / "pki")
    ensure_demo_tls(pki, tmp_path / "s.pem", tmp_path / "s.key", ["localhost"])
    pem.write_bytes((tmp_path / "s.pem").read_bytes() + (tmp_path / "s.key").read_bytes())
    env = {
        **os.environ,
        "PROCLIENT_LB_BIND": "127.0.0.1:8443",
        "PROCLIENT_LB_CERT": str(pem),
        "PROCLIENT_HOSTS_CA": str(pki.ca_cert_path),
        "PROCLIENT_HOSTS_NAME": "localhost",
        "PROCLIENT_LB_SOCKET": str(tmp_path / "haproxy.sock"),
        **{f"PROCLIENT_HOST{n}": f"127.0.0.{n + 1}:8443" for n in (1, 2, 3)},
    }
    done = subprocess.run(
        ["haproxy", "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = HAPROXY_CFG.read_text(encoding="utf-8")
    # The client's address overwrites whatever it sent; never appended to.
    assert "http-request set-header X-Forwarded-For %[src]" in text
    assert "option forwardfor" not in text


def test_the_unit_command_line_is_this_checkouts_proclient():
    assert local_argv(["/opt/proclient/bin/proclient", "serve"])[1:] == [
        "-m",
        "proclient.cli",
        "serve",
    ]
    with pytest.raises(ValueError):
        local_argv(["/usr/bin/python3", "serve"])


# --- the topology ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    if shutil.which("haproxy") is None:
        _missing("haproxy absent")
    if not POSTGRES_URL:
        _missing("PostgreSQL absent: source scripts/services/postgres.sh")
    root = Path(tempfile.mkdtemp(prefix="proclient-topology-test-"))
    schema = f"topology_{uuid.uuid4().hex[:10]}"
    create_schema(POSTGRES_URL, schema)
    topo = Topology(root, with_schema(POSTGRES_URL, schema), 2)
    try:
        topo.prepare()
        register = write_register(root / "insi-register.json", list(range(PATIENTS)))
        topo.start_hosts(2, "--insi-register", str(register))
        topo.start_haproxy()
        topo.serve_with(2)
        topo.serials = Serials(0, PATIENTS)  # type: ignore[attr-defined]
        yield topo
    finally:
        topo.down()
        drop_schema(POSTGRES_URL, schema)
        shutil.rmtree(root, ignore_errors=True)


def _run(topo: Topology, event) -> dict:
    async def go():
        stations = await open_workstations(CLIENTS, topo.lb_url, topo.ca, topo.pki_dir)
        try:
            return await load_run(topo, stations, topo.serials, event)  # type: ignore[attr-defined]
        finally:
            await asyncio.gather(*(s.close() for s in stations))

    tally, fault_at = asyncio.run(go())
    return run_figures(tally, fault_at, CLIENTS, topo.database)


@pytest.mark.slow
def test_a_host_killed_under_load_loses_nothing_and_doubles_nothing(topology: Topology):
    rng = random.Random(2407)
    for _run_number in range(2):
        victim = rng.choice(topology.hosts[:2])

        async def kill(_tally, victim=victim):
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            topology.kill_host(victim)
            import time

            return time.monotonic()

        figures = _run(topology, kill)
        assert figures["creations"] > 0
        assert figures["lost"] == 0, figures
        assert figures["duplicates"] == 0, figures
        assert figures["orphans"] == 0, figures
        assert figures["refused"] == 0, figures
        assert figures["passwords_lost"] == 0, figures
        assert figures["recovery"] is not None, figures  # every workstation succeeded again
        topology.start_host(victim)
        topology.wait_ready(victim)
        topology.wait_balancer({"h1", "h2"})


@pytest.mark.slow
def test_a_rolling_update_under_load_fails_no_creation(topology: Topology):
    exits = []

    async def update(_tally):
        await asyncio.sleep(0.5)
        for host in topology.hosts[:2]:
            await asyncio.to_thread(topology.terminate_host, host)
            exits.append(host.process.returncode)
            await asyncio.to_thread(topology.start_host, host)
            await asyncio.to_thread(topology.wait_ready, host)
            await asyncio.to_thread(topology.wait_balancer, {"h1", "h2"})
        return None

    figures = _run(topology, update)
    assert figures["creations"] > 0
    assert figures["failures_seen"] == 0, figures
    assert figures["refused"] == 0, figures
    assert figures["lost"] == 0 and figures["duplicates"] == 0, figures
    assert figures["passwords_lost"] == 0, figures
    # Each host ended on SIGTERM by itself (uvicorn re-raises the signal once drained: -15),
    # not killed (-9) after the wait.
    assert set(exits) <= {0, -signal.SIGTERM} and len(exits) == 2, exits


def _challenges(url: str, ca: Path, source: str, spoofed: list[str]) -> list[int]:
    """One challenge request per spoofed X-Forwarded-For, from ``source``."""
    context = ssl.create_default_context(cafile=str(ca))
    transport = httpx.HTTPTransport(verify=context, local_address=source)
    statuses = []
    with httpx.Client(base_url=url, transport=transport, timeout=10) as client:
        for address in spoofed:
            response = client.post("/v1/auth/challenge", headers={"X-Forwarded-For": address})
            statuses.append(response.status_code)
    return statuses


@pytest.mark.slow
def test_the_balancer_replaces_a_forwarded_address_the_client_sent(topology: Topology):
    from proclient.core.settings.model import ServerTable

    limit = ServerTable().challenges_per_minute  # the hosts run with the default
    # One workstation (127.0.2.1) claiming another address in each request: counted as
    # itself, it meets the per-address limit.
    spoofed = [f"203.0.113.{n}" for n in range(1, limit + 6)]
    statuses = _challenges(topology.lb_url, topology.ca, "127.0.2.1", spoofed)
    assert statuses[:limit] == [200] * limit, statuses
    assert 429 in statuses[limit:], statuses
    # Many workstations all claiming one address: each counted as itself, none refused.
    # (Were the hosts counting HAProxy's own address, or the claimed one, they would be.)
    others = [
        _challenges(topology.lb_url, topology.ca, f"127.0.3.{n}", ["203.0.113.250"])[0]
        for n in range(1, limit + 6)
    ]
    assert others == [200] * len(others), others
    # The hosts' access log names the real addresses, never a claimed one.
    logs = "".join(
        (h.home / "serve.log").read_text(errors="replace") for h in topology.hosts if h.starts
    )
    assert "127.0.2.1:" in logs and "127.0.3.1:" in logs
    assert "203.0.113." not in logs


@pytest.mark.slow
def test_a_forwarded_address_sent_straight_to_a_host_is_not_believed(topology: Topology):
    from proclient.core.settings.model import ServerTable

    limit = ServerTable().challenges_per_minute
    host = topology.hosts[0]
    spoofed = [f"198.51.100.{n}" for n in range(1, limit + 6)]
    # 127.0.4.1 is not a trusted proxy (only HAProxy's 127.0.0.1 is).
    statuses = _challenges(host.url, topology.ca, "127.0.4.1", spoofed)
    assert statuses[:limit] == [200] * limit, statuses
    assert 429 in statuses[limit:], statuses
    logs = (host.home / "serve.log").read_text(errors="replace")
    assert "127.0.4.1:" in logs and "198.51.100." not in logs
