"""`proclient serve` as a subprocess for the benchmarks: an INSi register file of generated
bench patients, the command line, start, wait for health, stop (the whole process group).

Shared by weak_network.py (the service inside a network namespace) and outbox_kill.py (the
service on loopback). The service runs the same proclient as the caller (a worktree's, not
the venv's), in a temporary PROCLIENT_HOME the caller owns and removes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import httpx

# The bench patients of benchmarks/creation.py (this script's folder is on sys.path).
from creation import given_name, nir  # noqa: E402

from proclient.core.domain import OID_INS_NIR_TEST, Ins
from proclient.server.register import RegisterIdentity


def register_identity(serial: int) -> RegisterIdentity:
    """Bench patient ``serial``: PATIENT BENCHxx, male, born 1980-01-01, NIR ``nir(serial)``."""
    return RegisterIdentity(
        Ins(nir(serial), OID_INS_NIR_TEST), "PATIENT", (given_name(serial),), "M", "19800101"
    )


def write_register(path: Path, serials: Iterable[int]) -> Path:
    """The INSi register file (``--insi-register``) of those bench patients."""
    identities = [register_identity(serial).as_answer() for serial in serials]
    path.write_text(json.dumps(identities), encoding="utf-8")
    return path


def serve_command(home: Path, host: str, port: int, register: Path) -> list[str]:
    """``proclient serve --init-demo`` on ``host:port``, SQLite file in ``home``."""
    command = [sys.executable, "-m", "proclient.cli", "serve", "--init-demo"]
    command += ["--host", host, "--port", str(port)]
    command += ["--database", str(home / "service.sqlite"), "--insi-register", str(register)]
    return command


def spawn_service(home: Path, command: list[str]) -> subprocess.Popen:
    """Start ``command`` (a serve_command, maybe behind a prefix such as ``ip netns exec``) in
    its own session, PROCLIENT_HOME=home, its output in home/serve.log."""
    import proclient

    root = str(Path(proclient.__file__).resolve().parents[1])
    env = {**os.environ, "PROCLIENT_HOME": str(home), "PYTHONPATH": root}
    env.pop("PROCLIENT_SERVER_DATABASE", None)
    log = (home / "serve.log").open("w")
    try:
        return subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        log.close()  # the child has its own copy


def demo_ca(home: Path) -> Path:
    """Where ``--init-demo`` puts the demo CA (the TLS certificate's and the professionals')."""
    return home / "data" / "server" / "demo" / "pki" / "ca.pem"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_healthy(
    url: str,
    ca: Path,
    process: subprocess.Popen,
    timeout: float = 60,
    what: str = "proclient serve",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped (see its log)")
        if ca.exists():
            try:
                context = ssl.create_default_context(cafile=str(ca))
                if httpx.get(f"{url}/v1/health", verify=context, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} never answered")


def stop_service(process: subprocess.Popen) -> None:
    """SIGTERM to the service's process group, SIGKILL after 20 s; always reaped."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
