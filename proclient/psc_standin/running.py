"""The stand-in served over HTTPS by uvicorn, in a daemon thread, on loopback only."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from proclient.core.netutil import is_loopback
from proclient.psc_standin.provider import PscStandIn

START_TIMEOUT = 15.0  # seconds for uvicorn to accept connections


class _Server(uvicorn.Server):
    """uvicorn's server, saying when it is up (``ready``) instead of being polled."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.ready.set()


@dataclass
class RunningStandIn:
    url: str  # https://127.0.0.1:PORT
    issuer: str
    discovery_url: str
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        """Stop serving; returns once the thread has ended."""
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT)


def start_standin(
    standin: PscStandIn, cert: Path, key: Path, host: str = "127.0.0.1", port: int = 0
) -> RunningStandIn:
    """Serve ``standin`` over TLS (``cert``/``key``) on ``host``:``port`` (0: a free port) in
    a daemon thread; returns once it accepts connections. Only a loopback host is allowed:
    this is no identity provider for a network."""
    if not is_loopback(host):
        raise ValueError(f"the PSC stand-in listens on loopback only, not on {host!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        bound_port = sock.getsockname()[1]
    except OSError:
        sock.close()
        raise
    shown_host = f"[{host}]" if ":" in host else host
    url = f"https://{shown_host}:{bound_port}"
    standin.set_base_url(url)
    config = uvicorn.Config(
        standin.app,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_config=None,
        # access_log=False would be process-wide: uvicorn then stops "uvicorn.access" from
        # propagating, and the service's own access log (beside it in the demo and the tests)
        # would vanish. The stand-in's request lines carry paths only, never a token.
        lifespan="off",
        timeout_graceful_shutdown=1,  # a client's kept-alive connection does not hold a stop
    )
    server = _Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="psc-standin", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.ready.wait(0.05):
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=START_TIMEOUT)
            sock.close()
            raise RuntimeError("the PSC stand-in did not start")
    return RunningStandIn(url, standin.issuer, standin.discovery_url, server, thread)
