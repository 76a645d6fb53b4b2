"""The Pro Santé Connect stand-in for the tests: running on loopback over HTTPS, with a clock
the test moves.

    with running_standin(tls.cert, tls.key, clock=clock) as psc:
        psc.discovery_url, psc.material.client_id, psc.material.client_secret_path
        psc.standin.approve("899700024450")

The service's tests may share one running stand-in for a session and call
``psc.standin.reset()`` between tests (requests, tokens, sessions and knobs forgotten). A
service test with a FakeClock of datetimes can pass ``clock=lambda: fake().timestamp()``.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from proclient.psc_standin import (
    PscStandIn,
    RunningStandIn,
    StandInMaterial,
    StandInUser,
    ensure_standin_material,
    start_standin,
)
from proclient.server.demo import DEMO_PROFESSIONALS

# The demo's three professionals, as the stand-in knows them (their e-CPS « activated »).
DEFAULT_USERS: tuple[StandInUser, ...] = tuple(
    StandInUser(
        national_id=professional.id_nat,
        family_name=professional.last_name,
        given_name=professional.first_name,
        profession_code=professional.profession_code,
        organisation=professional.structure,
    )
    for professional in DEMO_PROFESSIONALS
)


class EpochClock:
    """Epoch seconds, moved by hand (``advance``): the stand-in's injected clock."""

    def __init__(self, start: float | None = None) -> None:
        self.now = float(time.time() if start is None else start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class RunningPsc:
    standin: PscStandIn
    running: RunningStandIn
    material: StandInMaterial

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def issuer(self) -> str:
        return self.running.issuer

    @property
    def discovery_url(self) -> str:
        return self.running.discovery_url


@contextlib.contextmanager
def running_standin(
    cert: Path,
    key: Path,
    users: Iterable[StandInUser] = DEFAULT_USERS,
    clock: Callable[[], float] = time.time,
    *,
    material_dir: Path | None = None,
    **options: int,
) -> Iterator[RunningPsc]:
    """A stand-in serving over TLS (``cert``/``key``, for 127.0.0.1) on a free loopback port
    for the ``with`` block. Its material (client secret, signing key) is made in
    ``material_dir`` (reused there), by default a temporary folder of its own. ``options``:
    PscStandIn's lifetimes (expires_in, interval, access_ttl, refresh_ttl, session_max)."""
    with contextlib.ExitStack() as stack:
        if material_dir is None:
            material_dir = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "psc"
        material = ensure_standin_material(material_dir)
        standin = PscStandIn(material, users, clock=clock, **options)
        running = start_standin(standin, cert, key)
        stack.callback(running.stop)
        yield RunningPsc(standin, running, material)
