"""How long a login takes to give up on an unreachable service, per kind of fault on loopback.

Figures: a closed port (connection refused) and a port that accepts and never answers, against
the login budget (proclient.service.client.LOGIN_BUDGET; target ≤ 5 s) and, for comparison, the
writes' retry budget the login used before it had its own (DEFAULT_RETRY_BUDGET).
"""

from __future__ import annotations

import asyncio
import socket
import time

from proclient.credentials.software import unlock_demo
from proclient.server.demo import ensure_demo_pki
from proclient.service.client import DEFAULT_RETRY_BUDGET, LOGIN_BUDGET, DmpServiceClient
from proclient.service.errors import ServiceError


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


async def give_up(url: str, credential) -> tuple[float, str]:
    async with DmpServiceClient(url) as client:
        started = time.monotonic()
        try:
            await client.login(credential)
        except ServiceError as error:
            return time.monotonic() - started, error.code
    raise SystemExit("the login passed against an unreachable service")


async def main() -> None:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        await run(unlock_demo(ensure_demo_pki(Path(tmp)).default))


async def run(credential) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts (the kernel's backlog) and never answers
    faults = {
        "closed port": f"http://127.0.0.1:{closed_port()}",
        "silent port": f"http://127.0.0.1:{silent.getsockname()[1]}",
    }
    print(
        f"login budget {LOGIN_BUDGET:.1f} s (target ≤ 5 s); writes' budget {DEFAULT_RETRY_BUDGET:.0f} s"
    )
    for name, url in faults.items():
        elapsed, code = await give_up(url, credential)
        print(f"{name:12} gave up after {elapsed:5.2f} s ({code})")
    silent.close()


if __name__ == "__main__":
    asyncio.run(main())
