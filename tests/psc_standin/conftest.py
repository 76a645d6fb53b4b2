"""One PSC stand-in for this folder's tests (a trustme certificate for 127.0.0.1, a clock the
tests move), reset before each test, and an httpx client trusting only the test CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from tests.psc_support import EpochClock, RunningPsc, running_standin


@pytest.fixture(scope="session")
def psc_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, ssl.SSLContext]:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    directory = tmp_path_factory.mktemp("psc-tls")
    cert, key = directory / "server.pem", directory / "server.key"
    leaf.private_key_pem.write_to_path(str(key))
    with cert.open("wb") as handle:
        for blob in leaf.cert_chain_pems:
            handle.write(blob.bytes())
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return cert, key, context


@pytest.fixture(scope="session")
def psc_clock() -> EpochClock:
    return EpochClock(1_800_000_000.0)


@pytest.fixture(scope="session")
def _shared_psc(psc_tls, psc_clock, tmp_path_factory) -> Iterator[RunningPsc]:
    cert, key, _ = psc_tls
    material_dir = tmp_path_factory.mktemp("psc-material")
    with running_standin(cert, key, clock=psc_clock, material_dir=material_dir) as psc:
        yield psc


@pytest.fixture
def psc(_shared_psc: RunningPsc) -> RunningPsc:
    _shared_psc.standin.reset()
    return _shared_psc


@pytest.fixture
def http(psc_tls) -> Iterator[httpx.Client]:
    with httpx.Client(verify=psc_tls[2], timeout=10) as client:
        yield client
