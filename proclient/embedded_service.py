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
    psc=None,
    on_app=None,
    **client_options,
) -> tuple[DmpServiceClient, DemoPki]:
    """A client of an in-process service on ``data_dir/dmp-service.sqlite3`` (test mode,
    trusting the demo CA in ``data_dir/demo-pki``), with the demo DMPs seeded, and that demo
    PKI (its professionals' key and certificate files; ``unlock_demo`` makes a credential).
    With ``switch``, the service is reachable only while the switch is not cut. ``psc``: the
    service's Pro Santé Connect settings (:func:`embedded_psc`), None: no e-CPS. ``on_app``:
    called with the service's ASGI app (its PSC client is closed with ``app.state.psc``).
    ``client_options``: the client's budgets (``login_budget``, ``retry_budget``)."""
    import httpx

    from proclient.server.embedded import embedded_app
    from proclient.service.client import DmpServiceClient

    app, pki = embedded_app(data_dir, reset_demo=reset_demo, psc=psc)
    if on_app is not None:
        on_app(app)  # the caller closes what a lifespan would (no lifespan in-process)
    # raise_app_exceptions=False: a server bug comes back as a 500 problem, as over the network.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    if switch is not None:
        transport = _switched(transport, switch)
    return DmpServiceClient(EMBEDDED_BASE_URL, transport=transport, **client_options), pki


class DemoPhone:
    """The demo's e-CPS phone: approves or refuses the newest request pushed to a
    professional (the stand-in's « phone »)."""

    def __init__(self, standin) -> None:
        self._standin = standin

    def approve(self, national_id: str) -> bool:
        return self._standin.approve(national_id)

    def refuse(self, national_id: str) -> bool:
        return self._standin.refuse(national_id)


def ensure_demo_psc_material(pki):
    """The stand-in's registration, signing key and TLS certificate (from the demo CA, for
    127.0.0.1) with the demo PKI, in its ``psc`` folder: made once, reused after."""
    from proclient.core.fileutil import file_lock
    from proclient.psc_standin import ensure_standin_material
    from proclient.server.demo import ensure_demo_tls

    directory = pki.directory / "psc"
    cert, key = directory / "tls.pem", directory / "tls.key"
    with file_lock(pki.directory / ".psc.lock"):  # two demos starting at once
        material = ensure_standin_material(directory)
        ensure_demo_tls(pki, cert, key, ["127.0.0.1"])
    return material, cert, key


def embedded_psc(data_dir: Path, interval: int = 5):
    """The demo's Pro Santé Connect: the stand-in (proclient.psc_standin) serving HTTPS on
    127.0.0.1 (a free port, a certificate from the demo CA) in a thread, knowing the demo
    professionals; its client registration, signing key and certificate made at first run
    with the demo PKI (:func:`ensure_demo_psc_material`, mode 600). Returns the service's PSC settings, the phone and the
    running stand-in (``stop()``). ``interval``: PSC's CIBA polling interval (its 5 s; the
    tests shorten it, as they shorten the client's budgets)."""
    from proclient.psc_standin import PscStandIn, StandInUser, start_standin
    from proclient.server.demo import ensure_demo_pki
    from proclient.server.settings import PscSettings

    pki = ensure_demo_pki(Path(data_dir) / "demo-pki")
    material, cert, key = ensure_demo_psc_material(pki)
    users = [
        StandInUser(
            national_id=entry.professional.id_nat,
            family_name=entry.professional.last_name,
            given_name=entry.professional.first_name,
            profession_code=entry.professional.profession_code,
            organisation=entry.professional.structure,
        )
        for entry in pki.professionals
    ]
    standin = PscStandIn(material, users, interval=interval)
    running = start_standin(standin, cert, key)
    settings = PscSettings(
        discovery_url=running.discovery_url,
        client_id=material.client_id,
        client_secret=material.client_secret,
        ca=pki.ca_cert_path,
        start_limit_per_id=10,  # a training room tries again and again
    )
    return settings, DemoPhone(standin), running
