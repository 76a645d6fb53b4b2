"""The parts of benchmarks/topology.py's topology, on this machine, on loopback: N
`proclient serve` hosts (separate processes, each its own address 127.0.0.2, 127.0.0.3, … and
its own data folder; one database, one pseudonymisation key, one document-signing key), run
with deploy/proclient.service's ExecStart and Environment as they are, behind HAProxy run
with deploy/haproxy.cfg as it is. tests/service/test_topology.py uses it too.

TLS: the demo PKI (the CA of the professionals' certificates) issues one certificate naming
``localhost`` and every host's address; HAProxy presents it to the workstations and checks
it on the hosts (verify required, verifyhost localhost). The hosts believe HAProxy's
X-Forwarded-For because it comes from 127.0.0.1 ([server] trusted_proxies).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
UNIT = ROOT / "deploy" / "proclient.service"
PG_PAIR = ROOT / "scripts" / "pg_pair.sh"
SERVERS = 3  # server lines in deploy/haproxy.cfg (h1, h2, h3)
BACKEND = "hosts"  # its backend
LB_SOURCE = "127.0.0.1"  # HAProxy's address towards the hosts: [server] trusted_proxies


def unit_command(unit: Path = UNIT) -> tuple[list[str], dict[str, str]]:
    """ExecStart (split as systemd does for plain words and quotes) and the Environment=
    assignments of the unit's [Service] section."""
    argv: list[str] = []
    env: dict[str, str] = {}
    section = None
    for raw in unit.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section != "[Service]" or "=" not in line:
            continue
        name, value = (part.strip() for part in line.split("=", 1))
        if name == "ExecStart":
            argv = shlex.split(value.lstrip("-@:+!"))
        elif name == "Environment":
            for word in shlex.split(value):
                key, _, val = word.partition("=")
                env[key] = val
    if not argv:
        raise ValueError(f"{unit}: no ExecStart")
    return argv, env


def local_argv(argv: list[str]) -> list[str]:
    """The unit's command line on this machine: its installed ``proclient`` entry point
    (/opt/proclient/bin/proclient) is this checkout's, run by this interpreter."""
    if Path(argv[0]).name != "proclient":
        raise ValueError(f"ExecStart runs {argv[0]}, not a proclient entry point")
    return [sys.executable, "-m", "proclient.cli", *argv[1:]]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def haproxy_available() -> bool:
    return shutil.which("haproxy") is not None


def spawn_logged(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """``command`` in its own session (its group is killed as one), output appended to
    ``log_path``."""
    with log_path.open("a") as log:
        return subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


@dataclass
class Host:
    number: int  # 1, 2, 3…
    address: str
    port: int
    home: Path
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"https://{self.address}:{self.port}"

    @property
    def name(self) -> str:
        return f"h{self.number}"


@dataclass
class Topology:
    """N hosts and HAProxy under ``root`` (a folder the caller owns and removes)."""

    root: Path
    database: str  # the hosts' server.database (PROCLIENT_SERVER_DATABASE)
    hosts_count: int = 2
    settings: dict[str, object] = field(default_factory=dict)  # more [server] keys
    hosts: list[Host] = field(default_factory=list)
    haproxy: subprocess.Popen | None = None
    lb_port: int = 0

    # --- material ------------------------------------------------------------------------

    @property
    def shared(self) -> Path:
        return self.root / "shared"

    @property
    def ca(self) -> Path:
        return self.shared / "pki" / "ca.pem"

    @property
    def pki_dir(self) -> Path:
        return self.shared / "pki"

    @property
    def lb_url(self) -> str:
        return f"https://127.0.0.1:{self.lb_port}"

    @property
    def socket_path(self) -> Path:
        return self.root / "haproxy.sock"

    def prepare(self) -> None:
        """The demo PKI, one TLS certificate for every host and the balancer, the hosts'
        folders and config.toml."""
        from proclient.core.fileutil import write_private
        from proclient.server.demo import ensure_demo_pki, ensure_demo_tls

        if self.hosts_count > SERVERS:
            raise ValueError(f"deploy/haproxy.cfg names {SERVERS} hosts")
        self.root.mkdir(parents=True, exist_ok=True)
        pki = ensure_demo_pki(self.pki_dir)
        addresses = [f"127.0.0.{n + 1}" for n in range(1, SERVERS + 1)]
        tls = self.shared / "tls"
        ensure_demo_tls(
            pki, tls / "server.pem", tls / "server.key", ["localhost", LB_SOURCE, *addresses]
        )
        write_private(
            tls / "balancer.pem",
            (tls / "server.pem").read_bytes() + (tls / "server.key").read_bytes(),
        )
        self.hosts = [
            Host(n, addresses[n - 1], free_port(addresses[n - 1]), self.root / f"h{n}")
            for n in range(1, SERVERS + 1)
        ]
        for host in self.hosts:
            self._write_config(host)

    def _write_config(self, host: Host) -> None:
        tls = self.shared / "tls"
        table: dict[str, object] = {
            "host": host.address,
            "port": host.port,
            "certificate": str(tls / "server.pem"),
            "key": str(tls / "server.key"),
            "trusted_ca": str(self.ca),
            "mode": "test",
            "pseudonym_key": str(self.shared / "dmp-pseudonym.key"),
            "document_signing": str(self.shared / "document-signing"),
            "trusted_proxies": LB_SOURCE,
            **self.settings,
        }
        lines = ["[server]"]
        for key, value in table.items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, int | float):
                lines.append(f"{key} = {value}")
            else:
                lines.append(f"{key} = {json_string(str(value))}")
        config = host.home / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # --- hosts ---------------------------------------------------------------------------

    def start_host(self, host: Host, *extra: str) -> None:
        """The unit's ExecStart with its Environment, PROCLIENT_HOME the host's folder (the
        unit's /var/lib/proclient), the database in PROCLIENT_SERVER_DATABASE (the unit's
        EnvironmentFile)."""
        argv, unit_env = unit_command()
        env = {**os.environ, **unit_env}
        env["PROCLIENT_HOME"] = str(host.home)
        env["PROCLIENT_SERVER_DATABASE"] = self.database
        env["PYTHONPATH"] = str(ROOT)
        host.process = spawn_logged([*local_argv(argv), *extra], env, host.home / "serve.log")
        host.starts += 1

    def wait_ready(self, host: Host, timeout: float = 120) -> None:
        """Until the host's /v1/ready answers 200 (its database answers, schema done)."""
        context = ssl.create_default_context(cafile=str(self.ca))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if host.process is None or host.process.poll() is not None:
                raise RuntimeError(f"host {host.name} stopped: see {host.home / 'serve.log'}")
            try:
                if httpx.get(f"{host.url}/v1/ready", verify=context, timeout=3).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"host {host.name} never ready: see {host.home / 'serve.log'}")

    def kill_host(self, host: Host) -> None:
        """kill -9, the host's whole process group (a machine dying)."""
        if host.process is not None and host.process.poll() is None:
            os.killpg(host.process.pid, signal.SIGKILL)
            host.process.wait()

    def terminate_host(self, host: Host, timeout: float = 60) -> float:
        """SIGTERM (systemd's stop) and wait for the exit; the seconds it took."""
        started = time.monotonic()
        if host.process is not None and host.process.poll() is None:
            os.killpg(host.process.pid, signal.SIGTERM)
            try:
                host.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(host.process.pid, signal.SIGKILL)
                host.process.wait()
        return time.monotonic() - started

    def start_hosts(self, count: int, *first_extra: str) -> None:
        """Hosts 1..count: the first alone (it migrates the schema, makes the keys, loads the
        register), then the others together."""
        first, *others = self.hosts[:count]
        self.start_host(first, *first_extra)
        self.wait_ready(first)
        for host in others:
            self.start_host(host)
        for host in others:
            self.wait_ready(host)

    # --- the balancer --------------------------------------------------------------------

    def start_haproxy(self) -> None:
        self.lb_port = free_port()
        tls = self.shared / "tls"
        env = {
            **os.environ,
            "PROCLIENT_LB_BIND": f"127.0.0.1:{self.lb_port}",
            "PROCLIENT_LB_CERT": str(tls / "balancer.pem"),
            "PROCLIENT_HOSTS_CA": str(self.ca),
            "PROCLIENT_HOSTS_NAME": "localhost",
            "PROCLIENT_LB_SOCKET": str(self.socket_path),
        }
        for host in self.hosts:
            env[f"PROCLIENT_HOST{host.number}"] = f"{host.address}:{host.port}"
        command = ["haproxy", "-db", "-f", str(HAPROXY_CFG)]
        self.haproxy = spawn_logged(command, env, self.root / "haproxy.log")
        deadline = time.monotonic() + 20
        while not self.socket_path.exists():
            if self.haproxy.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start: see {self.root / 'haproxy.log'}")
            time.sleep(0.05)

    def runtime(self, command: str) -> str:
        """One command of HAProxy's runtime API (the stats socket)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket_path))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def server_states(self) -> dict[str, str]:
        """{h1: UP|DOWN|MAINT|DRAIN|…} as HAProxy sees the hosts."""
        states = {}
        for line in self.runtime("show stat").splitlines():
            fields = line.split(",")
            if len(fields) > 17 and fields[0] == BACKEND and fields[1].startswith("h"):
                states[fields[1]] = fields[17]
        return states

    def serve_with(self, count: int) -> None:
        """HAProxy sends to hosts 1..count only (the others in maintenance)."""
        for host in self.hosts:
            state = "ready" if host.number <= count else "maint"
            self.runtime(f"set server {BACKEND}/{host.name} state {state}")
        self.wait_balancer({h.name for h in self.hosts[:count]})

    def wait_balancer(self, names: set[str], timeout: float = 60) -> None:
        """Until HAProxy sees exactly ``names`` UP."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.server_states()
            if {name for name, state in states.items() if state == "UP"} == names:
                return
            time.sleep(0.1)
        raise RuntimeError(f"HAProxy sees {self.server_states()}, expected {sorted(names)} UP")

    # --- all of it -----------------------------------------------------------------------

    def down(self) -> None:
        """Everything this topology started, stopped (the caller removes ``root``)."""
        for host in self.hosts:
            if host.process is not None and host.process.poll() is None:
                self.terminate_host(host, timeout=30)
        if self.haproxy is not None and self.haproxy.poll() is None:
            os.killpg(self.haproxy.pid, signal.SIGTERM)
            try:
                self.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.haproxy.pid, signal.SIGKILL)
                self.haproxy.wait()


def json_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    import json

    return json.dumps(value)


# --- PostgreSQL --------------------------------------------------------------------------------


def with_schema(url: str, schema: str) -> str:
    """``url`` with search_path set to ``schema`` (libpq options)."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


def create_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    except psycopg.Error:
        pass  # the cluster is gone, or will be


class Pair:
    """scripts/pg_pair.sh: a primary and its synchronous standby on loopback."""

    def __init__(self, parent: Path, sync: bool = True) -> None:
        # As root the pair runs as "postgres", which must go through the folders above it.
        parent.mkdir(parents=True, exist_ok=True)
        parent.chmod(0o755)
        self.dir = parent / "pair"
        self.sync = sync
        self.env: dict[str, str] = {}

    @staticmethod
    def available() -> bool:
        return PG_PAIR.exists() and (
            Path("/usr/lib/postgresql/15/bin/pg_basebackup").exists()
            or shutil.which("pg_basebackup") is not None
        )

    def _run(self, command: str) -> None:
        env = {**os.environ, "SYNC": "on" if self.sync else "off"}
        done = subprocess.run(
            ["bash", str(PG_PAIR), command, str(self.dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_pair.sh {command}: {done.stderr.strip()[-500:]}")

    def up(self) -> str:
        self._run("up")
        for line in (self.dir / "pair.env").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            self.env[key.strip()] = value.strip().strip("'\"")
        return self.env["PROCLIENT_PAIR_URL"]

    def kill_primary(self) -> None:
        self._run("kill-primary")

    def promote(self) -> None:
        self._run("promote")

    def down(self) -> None:
        subprocess.run(
            ["bash", str(PG_PAIR), "down", str(self.dir)], capture_output=True, timeout=120
        )
