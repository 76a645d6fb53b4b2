"""The demo's DMP service in-process, joined to its client: part of the composition root.

The server (:mod:`proclient.server.embedded`) and the client (:mod:`proclient.service.client`)
never import each other; this module is where they meet, for the demo, the tests and a single
workstation. Both are imported when first used: neither is needed to start the application.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proclient.server.demo import DemoPki
    from proclient.service.client import DmpServiceClient

EMBEDDED_BASE_URL = "http://dmp.embedded"


class NetworkSwitch:
    """The demo's network cable: cut, the embedded service cannot be reached, exactly as an
    unreachable network (a connection error, not a 503), for training and for the tests."""

    def __init__(self, cut: bool = False) -> None:
        self.cut = cut

    def toggle(self) -> bool:
        """Cut when it was up, restore when it was cut; True when now cut."""
        self.cut = not self.cut
        return self.cut


def _switched(transport, switch: NetworkSwitch):
    """``transport`` behind ``switch``: while cut, every request fails to connect."""
    import httpx

    class SwitchedTransport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if switch.cut:
                raise httpx.ConnectError("network cut (demo)", request=request)
            return await transport.handle_async_request(request)

        async def aclose(self) -> None:
            await transport.aclose()

    return SwitchedTransport()


def embedded_client(
    data_dir: Path,
    *,
    reset_demo: bool = False,
    switch: NetworkSwitch | None = None,
    **client_options,
) -> tuple[DmpServiceClient, DemoPki]:
    """A client of an in-process service on ``data_dir/dmp-service.sqlite3`` (test mode,
    trusting the demo CA in ``data_dir/demo-pki``), with the demo DMPs seeded, and that demo
    PKI (its professionals' key and certificate files; ``unlock_demo`` makes a credential).
    With ``switch``, the service is reachable only while the switch is not cut.
    ``client_options``: the client's budgets (``login_budget``, ``retry_budget``)."""
    import httpx

    from proclient.server.embedded import embedded_app
    from proclient.service.client import DmpServiceClient

    app, pki = embedded_app(data_dir, reset_demo=reset_demo)
    # raise_app_exceptions=False: a server bug comes back as a 500 problem, as over the network.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    if switch is not None:
        transport = _switched(transport, switch)
    return DmpServiceClient(EMBEDDED_BASE_URL, transport=transport, **client_options), pki
