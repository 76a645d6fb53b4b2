"""The DMP service as `proclient serve` runs it (``serving.uvicorn_server``: its protocol, its
limits, its TLS), in a thread on loopback, and a raw HTTPS client to talk to it byte by byte."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from proclient.server.app import create_app
from proclient.server.serving import ServeConfig, uvicorn_server
from proclient.server.settings import ServerLimits, ServerSettings


@dataclass
class Production:
    port: int
    limits: ServerLimits
    context: ssl.SSLContext  # trusts the test CA

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def connect(self, source: str = "127.0.0.1", timeout: float = 10) -> ssl.SSLSocket:
        """A TLS connection from ``source`` (any 127.x.y.z: all of 127/8 is loopback)."""
        raw = socket.create_connection(
            ("127.0.0.1", self.port), timeout=timeout, source_address=(source, 0)
        )
        try:
            return self.context.wrap_socket(raw, server_hostname="127.0.0.1")
        except BaseException:
            raw.close()
            raise


@contextmanager
def production_service(
    database: str | Path,
    trusted_ca_pem: bytes,
    tls,
    limits: ServerLimits | None = None,
    *,
    http: type | None = None,
    trusted_proxies: str | None = None,
) -> Iterator[Production]:
    """Serve ``database`` with ``uvicorn_server`` (``http``: another protocol class than the
    one it picks) until the block ends."""
    limits = limits or ServerLimits()
    app = create_app(
        ServerSettings(database=database, trusted_ca_pem=trusted_ca_pem, limits=limits)
    )
    config = ServeConfig(
        database=str(database),
        certificate=tls.cert,
        key=tls.key,
        limits=limits,
        trusted_proxies=trusted_proxies,
    )
    server = uvicorn_server(config, app)
    if http is not None:
        server.config.http = http
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the DMP service did not start")
            time.sleep(0.01)
        yield Production(port, limits, tls.context)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        if thread.is_alive():
            raise AssertionError("the DMP service did not stop")
        app.state.storage.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    raw: bytes = field(repr=False)
    closed: bool  # the server closed the connection after it


def read_answer(sock: ssl.SSLSocket) -> Answer | None:
    """One HTTP/1.1 response (Content-Length framed), or None when the connection ended
    (closed or reset) before one came."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except (ConnectionError, ssl.SSLError):
        return None
    closed = headers.get("connection") == "close" and ended(sock, 5)
    return Answer(status, headers, body[:length], data[: len(head) + 4] + body, closed)


def ended(sock: ssl.SSLSocket, within: float) -> bool:
    """True when the server ends the connection (EOF or reset) within ``within`` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionError, ssl.SSLError):
        return True
    except TimeoutError:
        return False


def request(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def health(service: Production, source: str = "127.0.0.1") -> tuple[int | None, float]:
    """GET /v1/health on a new connection from ``source``: (status or None, seconds)."""
    started = time.perf_counter()
    try:
        with service.connect(source) as sock:
            sock.sendall(request("GET", "/v1/health", Connection="close"))
            answer = read_answer(sock)
    except (OSError, ssl.SSLError):
        answer = None
    return (answer.status if answer else None), time.perf_counter() - started
