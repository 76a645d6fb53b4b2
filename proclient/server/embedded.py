"""The DMP service inside the application's process (demo, tests, single workstation).

The client speaks HTTP to the server app through httpx's ASGI transport: the same requests,
answers and errors as over the network, without a socket.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from proclient.server.app import create_app
from proclient.server.demo import DemoPki, ensure_demo_pki, seed_demo_dmps
from proclient.server.settings import ServerSettings
from proclient.service.client import DmpServiceClient

EMBEDDED_BASE_URL = "http://dmp.embedded"
DATABASE_NAME = "dmp-service.sqlite3"


def embedded_client(
    data_dir: Path, *, reset_demo: bool = False
) -> tuple[DmpServiceClient, DemoPki]:
    """A client of an in-process service on ``data_dir/dmp-service.sqlite3`` (test mode,
    trusting the demo CA in ``data_dir/demo-pki``), with the demo DMPs seeded."""
    data_dir = Path(data_dir)
    pki = ensure_demo_pki(data_dir / "demo-pki")
    database = data_dir / DATABASE_NAME
    app = create_app(ServerSettings(database=database, trusted_ca_pem=pki.ca_pem, mode="test"))
    seed_demo_dmps(database, reset=reset_demo)
    # raise_app_exceptions=False: a server bug comes back as a 500 problem, as over the network.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return DmpServiceClient(EMBEDDED_BASE_URL, transport=transport), pki
