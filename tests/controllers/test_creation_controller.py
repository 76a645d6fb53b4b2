"""The creation controller is the one owner of a write's idempotency key."""

from __future__ import annotations

from proclient.controllers.creation import CreationController
from proclient.core.domain import Consent, WebAccess
from proclient.core.submission import creation_request
from tests.test_flow import flow_at_consent


def _unused_service():
    raise AssertionError("no service in these tests")


def test_request_keeps_its_idempotency_key_when_sent_again():
    creation = CreationController(_unused_service)
    flow = flow_at_consent()
    flow.set_consent(Consent(creation=True))
    flow.set_web_access(WebAccess(email="a@exemple.fr"))
    key = creation.key_for(creation_request(flow))
    assert creation.key_for(creation_request(flow)) == key
    flow.back()
    flow.set_web_access(None)
    assert creation.key_for(creation_request(flow)) != key


def test_the_key_is_on_disk_before_sending_and_gone_once_answered(tmp_path):
    flow = flow_at_consent()
    flow.set_consent(Consent(creation=True))
    flow.set_web_access(None)
    request = creation_request(flow)
    key = CreationController(_unused_service, tmp_path / "pending").key_for(request)
    # A new process (the workstation restarted) finds the same key for the same request.
    again = CreationController(_unused_service, tmp_path / "pending")
    assert again.key_for(request) == key
    assert any(key in path.read_text() for path in (tmp_path / "pending").glob("*.key"))
    again.forget(request)
    assert list((tmp_path / "pending").glob("*.key")) == []


def test_only_a_replay_without_password_for_online_access_asks_for_a_new_one():
    from datetime import UTC, datetime

    from proclient.controllers.creation import password_lost
    from proclient.core.records import CreationResult, WebCredentials

    flow = flow_at_consent()
    flow.set_consent(Consent(creation=True))
    flow.set_web_access(WebAccess(email="a@exemple.fr"))
    online = creation_request(flow)
    now = datetime.now(UTC)

    def result(web):
        return CreationResult(online.action, "DMP-AAAA-BBBB-CCCC", now, web)

    assert password_lost(online, result(WebCredentials("P0123456789", None)))
    assert not password_lost(online, result(WebCredentials("P0123456789", "Abcdefgh2345")))
    flow.back()
    flow.set_web_access(None)
    assert not password_lost(creation_request(flow), result(None))
