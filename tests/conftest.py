"""Fixtures shared by every test folder: a private PROCLIENT_HOME, the demo keys made once,
and the real app on the demo wiring (virtual cards, the embedded service, real PDF files).

scripts/test.sh runs the suite on every core (pytest-xdist, ``--dist loadgroup``): the tests
that use one machine-wide resource are put in one group here, and a group runs on one worker,
one test after another (see :func:`machine_resource`).
"""

from __future__ import annotations

import os

import pytest

from proclient.core.i18n import use_language
from proclient.core.settings import Paths, load_settings

# The tests read French whatever the developer's locale (and so do the programs they start);
# tests/test_i18n.py asks for English.
os.environ["LANGUAGE"] = "fr"
use_language("fr")


def machine_resource(item: pytest.Item) -> str | None:
    """The machine-wide resource ``item`` uses, which no other test may use meanwhile: the one
    pcscd and its fixed vpcd ports (the ``pcscd`` fixture, tests/pcsc), the CUPS queue (a
    module that calls tests/receipts/cups_support.py's ``require_cups``), the tmux server
    (the ``tmux`` marker); None for the others."""
    if "pcscd" in getattr(item, "fixturenames", ()) or item.path.parent.name == "pcsc":
        return "pcscd"
    if getattr(getattr(item, "module", None), "require_cups", None) is not None:
        return "cups"
    if item.get_closest_marker("tmux") is not None:
        return "tmux"
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's, which reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        resource = machine_resource(item) or costly_fixture(item)
        if resource is not None:
            item.add_marker(pytest.mark.xdist_group(resource))


# Module fixtures that cost seconds each time a worker makes them: their tests run on one
# worker, which makes them once (test_i18n's English run is a whole TUI session, ~10 s).
COSTLY_FIXTURES = ("english_run",)


def costly_fixture(item: pytest.Item) -> str | None:
    names = getattr(item, "fixturenames", ())
    return next((name for name in COSTLY_FIXTURES if name in names), None)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path / "home"))
    return load_settings(Paths.resolve())


@pytest.fixture(scope="session")
def demo_pki_cache(tmp_path_factory):
    """Demo keys are slow to make (RSA): made once for the whole run, in the folder the xdist
    workers' temporary folders share (ensure_demo_pki locks it: the first worker makes the
    keys, the others read them), and copied into each home. Read only: the service's and the
    credentials' ``pki`` fixtures are this one."""
    from proclient.server.demo import ensure_demo_pki

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    directory = base / "demo-pki-cache"
    pki = ensure_demo_pki(directory)
    from proclient.embedded_service import ensure_demo_psc_material

    ensure_demo_psc_material(pki)  # the demo's Pro Santé Connect stand-in: its keys once too
    return directory


# The service client's budgets in the tests' demo wiring: a network cut by a test is waited
# out in about two seconds instead of the real 4.5 s (the login, the health check, the reads)
# and 20 s (a write's retries). The embedded service answers a reachable request in
# milliseconds, far within them even on a loaded machine. A test that is about a budget itself
# keeps the real ones: ``@pytest.mark.real_budgets``. The demo PSC stand-in asks for polls every
# second instead of PSC's 5 s (an approval is seen within a second).
TEST_BUDGETS = {"login_budget": 2.0, "retry_budget": 2.0, "psc_interval": 1}


@pytest.fixture
def client_budgets(request: pytest.FixtureRequest) -> dict[str, float] | None:
    """The client options of the demo wiring for this test (None: the real budgets)."""
    if request.node.get_closest_marker("real_budgets") is not None:
        return None
    return dict(TEST_BUDGETS)


@pytest.fixture
def app_factory(settings, demo_pki_cache, client_budgets):
    import shutil

    from proclient.app import ProclientApp
    from proclient.wiring import demo_wiring
    from tests.tui_support import record_notices

    def make(adjust=None):
        """``adjust(wiring)`` may change the demo wiring first (a test clock, a card double)."""
        target = settings.paths.demo_dir / "demo-pki"
        if not target.exists():
            shutil.copytree(demo_pki_cache, target)
        wiring = demo_wiring(settings, client_options=client_budgets)
        if adjust is not None:
            adjust(wiring)
        app = ProclientApp(wiring)
        record_notices(app)
        return app

    return make
