"""The done screen when the initial password could not be issued after a lost answer: it says
so in French, F9 asks the service again, then F6/F7 offer the secrets sheet.

The demo's embedded service is the real one; only the reissue route is made unreachable for
a while, in front of it (a middleware), as a network failure would."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from proclient.core.submission import creation_request
from proclient.embedded_service import EMBEDDED_BASE_URL
from proclient.ports import ServiceBinding
from proclient.server.operations import verify_password
from proclient.service.journal import IdempotencyJournal
from tests.tui_support import (
    SIZE,
    connect,
    create,
    insert,
    notified,
    screen_text,
    through_consent_and_online,
    wait_until,
)

pytestmark = pytest.mark.slow  # the longest tier: scripts/test.sh -m "not slow" leaves it out

REISSUE = "/v1/dmp/web-access/password"


class Outage:
    """While ``down``, the route ``path`` (the reissue by default) answers 503 (the client
    gives up within its budget)."""

    def __init__(self, path: str = REISSUE) -> None:
        self.down = True
        self.reissues = 0  # requests that reached ``path``
        self.path = path

    def wrap(self, app):
        async def middleware(scope, receive, send):
            if scope["type"] == "http" and scope["path"] == self.path:
                self.reissues += 1
                if self.down:
                    await send({"type": "http.response.start", "status": 503, "headers": []})
                    await send({"type": "http.response.body", "body": b""})
                    return
            await app(scope, receive, send)

        return middleware


def behind(outage: Outage, settings):
    """``adjust`` for app_factory: the demo's embedded service, behind ``outage``."""

    def adjust(wiring) -> None:
        demo_dir, deck = settings.paths.demo_dir, wiring.deck

        def open_service() -> ServiceBinding:
            from proclient.server.embedded import embedded_app
            from proclient.service.client import DmpServiceClient
            from proclient.wiring import demo_credentials

            app, pki = embedded_app(demo_dir)
            transport = httpx.ASGITransport(app=outage.wrap(app), raise_app_exceptions=False)
            client = DmpServiceClient(EMBEDDED_BASE_URL, transport=transport, retry_budget=0.5)
            credentials = demo_credentials(demo_dir, pki.default, deck.cps_present)
            return ServiceBinding(client, credentials, "service DMP intégré (test)")

        wiring.open_service = open_service

    return adjust


def stored_hash(settings, dmp_id: str) -> str:
    database = settings.paths.demo_dir / "dmp-service.sqlite3"
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT password_hash FROM web_accounts WHERE dmp_id = ?", (dmp_id,)
        ).fetchone()[0]


async def test_password_not_issued_is_said_and_f9_gets_it(app_factory, settings):
    outage = Outage()
    app = app_factory(behind(outage, settings))
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await through_consent_and_online(pilot, app, email="g.legoff@exemple.fr")
        # The first sending: its key is saved, the service commits, the answer is "lost".
        request = creation_request(app.flow)
        key = IdempotencyJournal(app.wiring.pending_dir).key_for(request)
        first = await app.creation.binding.client.submit(request, key)

        done = await create(pilot, app)  # the replay; the reissue cannot get through

        assert app.flow.result.dmp_id == first.dmp_id
        assert not done.has_secrets and app.paper.secrets is None
        text = " ".join(screen_text(app).split())
        assert "DMP créé" in text
        assert "pas encore de mot de passe provisoire" in text
        assert "ne répond pas" in text
        assert "F9" in text
        assert IdempotencyJournal(app.wiring.pending_dir).pending() == 0
        assert outage.reissues >= 1
        await pilot.press("f6")  # no sheet yet: nothing happens
        await pilot.pause()
        assert app.paper.secrets is None

        outage.down = False
        await pilot.press("f9")
        await wait_until(pilot, lambda: done.has_secrets, what="password reissued")

        sheet = app.paper.secrets
        assert sheet.login == first.web.login
        assert sheet.initial_password and sheet.initial_password != first.web.initial_password
        current = stored_hash(settings, first.dmp_id)
        assert verify_password(sheet.initial_password, current)
        assert not verify_password(first.web.initial_password, current)
        assert notified(app, "Nouveau mot de passe provisoire obtenu")
        assert "F6 imprime la feuille de codes" in screen_text(app)
        await pilot.press("f7")
        await wait_until(
            pilot, lambda: sheet.initial_password in screen_text(app), what="sheet shown"
        )
