"""The PSC stand-in for this folder's tests: the service tests' session fixtures (their
trustme CA, ``tls``, and their stand-in, ``psc_standin``), reset before each test with a
clock of its own the test moves, and an httpx client trusting only the test CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.psc_support import EpochClock, RunningPsc
from tests.service import conftest as service

tls, psc_standin = service.tls, service.psc_standin


@pytest.fixture(scope="session")
def psc_tls(tls: service.Tls) -> tuple[Path, Path, ssl.SSLContext]:
    """The stand-in's certificate and key, and a client context trusting only the test CA."""
    return tls.cert, tls.key, tls.context


@pytest.fixture
def psc_clock() -> EpochClock:
    return EpochClock(1_800_000_000.0)


@pytest.fixture
def psc(psc_standin: service.RunningPscStandIn, psc_clock: EpochClock) -> Iterator[RunningPsc]:
    running = psc_standin.psc
    running.standin.reset()
    running.standin.clock = psc_clock  # tests/psc_standin/helpers.py's psc_clock_advance
    try:
        yield running
    finally:
        running.standin.clock = psc_standin.clock


@pytest.fixture
def http(psc_tls) -> Iterator[httpx.Client]:
    with httpx.Client(verify=psc_tls[2], timeout=10) as client:
        yield client
