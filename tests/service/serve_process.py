"""A real ``proclient serve --init-demo`` subprocess on loopback (HTTPS, demo material, SQLite
unless told) with a ``[server]`` table of the test's choosing, for the operator tools' tests
(metrics, JSON logs): start, log in, scrape its metrics port, stop (always, pass or fail).
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from proclient.credentials.software import SoftwareCredential
from proclient.server.demo import DemoPki, ensure_demo_pki


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (state first), or None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(parent: int) -> dict[int, bytes]:
    """The processes whose parent is ``parent``, with their command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = stat(int(entry.name))
        if fields is None or int(fields[1]) != parent:
            continue
        try:
            found[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:
            continue
    return found


@contextmanager
def only_worker(workers: list[int], worker: int) -> Iterator[None]:
    """Only ``worker`` of ``workers`` accepts new connections in this block: the others are
    stopped (briefly: the supervisor replaces a worker that does not answer its ping for 5 s)."""
    others = [pid for pid in workers if pid != worker]
    assert worker in workers and others
    try:
        for pid in others:
            os.kill(pid, signal.SIGSTOP)
        for pid in others:
            wait_until(lambda pid=pid: (stat(pid) or ["T"])[0] == "T", f"{pid} stopped", 5)
        yield
    finally:
        for pid in others:
            os.kill(pid, signal.SIGCONT)


def login_at(url: str, context: ssl.SSLContext, credential: SoftwareCredential) -> str:
    """A session token for ``credential`` from the service at ``url`` (one challenge spent)."""
    with httpx.Client(base_url=url, verify=context) as http:
        challenge = http.post("/v1/auth/challenge").json()
        signature = credential.sign(base64.b64decode(challenge["nonce"]))
        answer = http.post(
            "/v1/auth/session",
            json={
                "challenge_id": challenge["challenge_id"],
                "certificate": credential.certificate_pem.decode(),
                "signature": base64.b64encode(signature).decode(),
            },
        )
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Serve:
    process: subprocess.Popen
    url: str
    context: ssl.SSLContext
    pki: DemoPki
    home: Path
    stderr: Path
    stdout: Path
    metrics_port: int | None

    def text(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def workers(self) -> list[int]:
        """The supervisor's worker processes (not multiprocessing's resource tracker)."""
        found = children(self.process.pid)
        return sorted(pid for pid, cmdline in found.items() if b"spawn_main" in cmdline)

    def only(self, worker: int):
        """Only ``worker`` accepts new connections in this block (:func:`only_worker`)."""
        return only_worker(self.workers(), worker)

    def scrape(self) -> str:
        """The metrics port's answer (Prometheus' text format)."""
        answer = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/plain")
        return answer.text

    def login(self, credential: SoftwareCredential) -> str:
        """A session token for ``credential`` (one challenge spent)."""
        return login_at(self.url, self.context, credential)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 60 s; the exit status (a single process ends by the
        SIGTERM it received, as uvicorn raises it again once shut down: -15; a supervisor
        returns 0)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(30)


def start_serve(
    home: Path,
    *,
    server: dict[str, object] | None = None,
    workers: int = 1,
    register: Path | None = None,
    database: str | None = None,
    pki_cache: Path | None = None,
) -> Serve:
    """``proclient serve --init-demo`` on a free loopback port, ``server`` written as the
    config file's ``[server]`` table (the demo PKI copied from ``pki_cache``: RSA keys are
    slow to make); returns once this process has bound its port (uvicorn's "running on" line
    for that port: a health check alone could be answered by another test's service on the
    same port, with the same demo CA), every worker has started and the service answers its
    health check. A port taken between :func:`free_port` and the bind is tried again."""
    if pki_cache is not None:
        shutil.copytree(pki_cache, home / "data" / "server" / "demo" / "pki", dirs_exist_ok=True)
    (home / "config").mkdir(parents=True, exist_ok=True)
    table = "".join(f"{name} = {toml_value(value)}\n" for name, value in (server or {}).items())
    (home / "config" / "config.toml").write_text(f"[server]\n{table}", encoding="utf-8")
    for attempt in range(3):
        try:
            return _start_once(home, server, workers, register, database)
        except PortTaken as taken:
            if attempt == 2:
                raise AssertionError(f"{taken}, three times over") from None


def _start_once(
    home: Path,
    server: dict[str, object] | None,
    workers: int,
    register: Path | None,
    database: str | None,
) -> Serve:
    """One start on a fresh port; :class:`PortTaken` when another process took it meanwhile."""
    port = free_port()
    stderr, stdout = home / "serve.err", home / "serve.out"
    for log in (stderr, stdout):
        log.unlink(missing_ok=True)
    env = {**os.environ, "PROCLIENT_HOME": str(home)}
    env.pop("PROCLIENT_SERVER_DATABASE", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "proclient.cli", "serve", "--init-demo"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--database", database or f"sqlite:///{home / 'dmp.sqlite3'}"]
    if register is not None:
        command += ["--insi-register", str(register)]
    with stderr.open("ab") as err, stdout.open("ab") as out:  # O_APPEND: workers share it
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
    ca = home / "data" / "server" / "demo" / "pki" / "ca.pem"
    bound = f"Uvicorn running on https://127.0.0.1:{port} "
    try:

        def started() -> bool:
            log = stderr.read_text(encoding="utf-8", errors="replace")
            if process.poll() is not None:
                if "address already in use" in log.lower():
                    raise PortTaken(f"port {port} taken")
                raise AssertionError(log + stdout.read_text())
            started_all = log.count("Application startup complete") >= workers
            return bound in log and started_all and ca.exists()

        wait_until(started, f"{workers} service process(es) started on port {port}")
        context = ssl.create_default_context(cafile=str(ca))
        metrics_port = server.get("metrics_port") if server else None
        serve = Serve(
            process,
            f"https://127.0.0.1:{port}",
            context,
            ensure_demo_pki(ca.parent),
            home,
            stderr,
            stdout,
            int(metrics_port) if metrics_port is not None else None,
        )
        assert httpx.get(f"{serve.url}/v1/health", verify=context).status_code == 200
        return serve
    except PortTaken:
        process.wait(30)  # it has exited: reaped, then tried again on another port
        raise
    except BaseException:
        process.kill()
        process.wait(30)
        raise


class PortTaken(Exception):
    """The service could not bind the port :func:`free_port` gave (another process took it)."""
