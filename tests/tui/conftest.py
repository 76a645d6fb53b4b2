"""Pilot tests drive the real app: virtual cards, the embedded service, real PDF files."""

from __future__ import annotations

import time

import pytest

from proclient.config import Paths, load_settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path / "home"))
    return load_settings(Paths.resolve())


@pytest.fixture(scope="session")
def demo_pki_cache(tmp_path_factory):
    """Demo keys are slow to make (RSA): make them once and copy them into each home."""
    from proclient.server.demo import ensure_demo_pki

    directory = tmp_path_factory.mktemp("pki")
    ensure_demo_pki(directory)
    return directory


@pytest.fixture
def app_factory(settings, demo_pki_cache):
    import shutil

    from proclient.app import ProclientApp
    from proclient.wiring import demo_wiring

    def make(adjust=None):
        """``adjust(wiring)`` may change the demo wiring first (a test clock, a card double)."""
        target = settings.paths.demo_dir / "demo-pki"
        if not target.exists():
            shutil.copytree(demo_pki_cache, target)
        wiring = demo_wiring(settings)
        if adjust is not None:
            adjust(wiring)
        return ProclientApp(wiring)

    return make


async def wait_until(pilot, predicate, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.05)
    # Let the new state reach the screen (compose, layout, first frame) before callers look.
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
