"""Nothing the test run starts listens beyond loopback (issue 10, point 8).

While the real services run (pcscd with the vpcd slots, PostgreSQL from
scripts/services/postgres.sh, ``proclient serve`` with its default settings, any server this
pytest process or its children hold open), ``ss`` lists no listening TCP socket of theirs on an
address other than 127.0.0.0/8 or ::1: a vpcd slot on 0.0.0.0 lets anyone on the network insert
a card into this machine's reader.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import PATIENT_PORT, PROFESSIONAL_PORT, unavailable

# The one pcscd on the machine is the fixture's (any other was stopped to start ours).
SERVICE_PROCESSES = ("pcscd",)


@dataclass(frozen=True)
class Listener:
    host: str
    port: int
    processes: tuple[tuple[str, int], ...]  # (name, pid) of each process holding the socket

    @property
    def loopback(self) -> bool:
        host = self.host.strip("[]").split("%", 1)[0]
        if host == "*":
            return False
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        owners = ", ".join(f"{name}[{pid}]" for name, pid in self.processes) or "?"
        return f"{self.host}:{self.port} ({owners})"


def listeners() -> list[Listener]:
    """Every listening TCP socket on this machine, per ``ss -ltnpH`` (iproute2)."""
    if shutil.which("ss") is None:
        unavailable("ss is not installed (Debian package iproute2)")
    output = subprocess.run(
        ["ss", "-ltnpH"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    found = []
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        host, _, port = fields[3].rpartition(":")
        processes = tuple(
            (name, int(pid))
            for name, pid in re.findall(r'\("([^"]+)",pid=(\d+)', " ".join(fields[5:]))
        )
        found.append(Listener(host, int(port), processes))
    return found


def our_process_tree() -> set[int]:
    """This test run's pytest processes and their descendants (servers started by fixtures or
    tests): under pytest-xdist, the controller (this worker's parent) and every worker."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    root = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(children.get(pid, ()))
    return tree


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def proclient_serve(tmp_path):
    """``proclient serve --init-demo`` with its default address, until the test ends."""
    port = free_port()
    env = {**os.environ, "PROCLIENT_HOME": str(tmp_path / "home")}
    env.pop("PROCLIENT_SERVER_DATABASE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "proclient.cli", "serve", "--init-demo", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(listener.port == port for listener in listeners()):
            if process.poll() is not None:
                raise AssertionError(f"proclient serve exited: {process.stderr.read()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("proclient serve did not listen within 60 s")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_no_service_of_the_run_listens_beyond_loopback(pcscd, proclient_serve):
    vpcd_ports = {PATIENT_PORT, PROFESSIONAL_PORT}
    watched_ports = {*vpcd_ports, proclient_serve}
    postgres_url = os.environ.get("PROCLIENT_TEST_POSTGRES_URL")
    if postgres_url:
        watched_ports.add(urlsplit(postgres_url).port)
    tree = our_process_tree()
    current = listeners()

    # Not vacuous: the sockets under test are there to be looked at.
    listening_ports = {listener.port for listener in current}
    assert watched_ports <= listening_ports, f"not listening: {watched_ports - listening_ports}"

    offenders = [
        str(listener)
        for listener in current
        if not listener.loopback
        and (
            listener.port in watched_ports
            or any(name in SERVICE_PROCESSES for name, _pid in listener.processes)
            or any(pid in tree for _name, pid in listener.processes)
        )
    ]
    assert offenders == [], f"listening beyond loopback: {offenders}"


def test_listener_parsing_tells_loopback_from_the_network():
    assert Listener("127.0.0.1", 1, ()).loopback
    assert Listener("[::1]", 1, ()).loopback
    assert Listener("127.0.0.53%lo", 53, ()).loopback
    assert not Listener("0.0.0.0", 1, ()).loopback
    assert not Listener("*", 1, ()).loopback
    assert not Listener("[::]", 1, ()).loopback
    assert not Listener("192.168.1.4", 1, ()).loopback
