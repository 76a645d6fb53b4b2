"""The service refuses Pro Santé Connect's answers that fail a check: forged and broken ID
tokens from the real stand-in (its ``forge`` knob), over HTTPS on loopback, both backends.
Each refusal is 502 ECPS_TOKEN_INVALID, opens no session, and the sign-in cannot be retried
with the same request."""

from __future__ import annotations

import logging

import pytest

from .ecps_helpers import CLAIRE, JULIEN, problem


def _now(server) -> int:
    return int(server.clock().timestamp())


FORGERIES = {
    "wrong signature": lambda now: {"signing": "other_key"},
    "alg none": lambda now: {"signing": "none"},
    "unknown kid": lambda now: {"signing": "unknown_kid"},
    "other issuer": lambda now: {"claims": {"iss": "https://127.0.0.1:1/auth/realms/other"}},
    "other audience": lambda now: {"claims": {"aud": "another-client"}},
    "audiences without us": lambda now: {"claims": {"aud": ["a", "b"]}},
    "expired": lambda now: {"claims": {"iat": now - 3600, "exp": now - 3480}},
    "issued in the future": lambda now: {"claims": {"iat": now + 600, "exp": now + 720}},
    "no exp": lambda now: {"claims": {"exp": None}},
    "acr other than eidas1": lambda now: {"claims": {"acr": "eidas2"}},
    "no acr": lambda now: {"claims": {"acr": None}},
    "another professional": lambda now: {"claims": {"preferred_username": JULIEN}},
}

REASONS = {
    "wrong signature": "signature",
    "alg none": "alg",
    "unknown kid": "kid",
    "other issuer": "iss",
    "other audience": "aud",
    "audiences without us": "aud",
    "expired": "exp",
    "issued in the future": "iat",
    "no exp": "exp",
    "acr other than eidas1": "acr",
    "no acr": "acr",
    "another professional": "national_id",
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_or_broken_id_token_is_refused(forgery, ecps_server, station, caplog):
    caplog.set_level(logging.INFO)
    request_id = station.started()
    station.poll(request_id)
    ecps_server.standin.forge.update(FORGERIES[forgery](_now(ecps_server)))
    assert ecps_server.standin.approve(CLAIRE)
    ecps_server.advance(5)
    problem(station.poll(request_id), 502, "ECPS_TOKEN_INVALID")
    assert f"PSC's answer refused: {REASONS[forgery]}" in caplog.text
    with ecps_server.storage.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM ecps_sessions").fetchone()[0] == 0
    # The request is over: polling again asks PSC nothing and gets the same answer.
    polls = sum(ecps_server.standin.token_polls.values())
    ecps_server.advance(5)
    problem(station.poll(request_id), 502, "ECPS_TOKEN_INVALID")
    assert sum(ecps_server.standin.token_polls.values()) == polls


def test_the_same_checks_let_an_honest_token_through(ecps_server, station):
    """The forgeries above fail for their forgery, not for something else."""
    request_id = station.started()
    station.poll(request_id)
    ecps_server.standin.forge.update({"claims": {"aud": [ecps_server.psc.material.client_id]}})
    assert ecps_server.standin.approve(CLAIRE)
    ecps_server.advance(5)
    assert station.poll(request_id).json()["status"] == "approved"


def test_an_unknown_kid_makes_the_jwks_fetched_once_more_at_most_once_a_minute(
    ecps_server, station, monkeypatch
):
    client = ecps_server.app.state.psc
    fetched: list[str] = []
    original = client._get_json
    monotonic = [1000.0]

    def counting(url, what):
        fetched.append(what)
        return original(url, what)

    monkeypatch.setattr(client, "_get_json", counting)
    monkeypatch.setattr(client, "_monotonic", lambda: monotonic[0])

    def sign_in(national_id: str, status: int) -> None:
        request_id = station.started(national_id)
        station.poll(request_id)
        assert ecps_server.standin.approve(national_id)
        ecps_server.advance(5)
        assert station.poll(request_id).status_code == status

    sign_in(CLAIRE, 200)
    assert fetched.count("jwks") == 1
    ecps_server.standin.forge.update({"signing": "unknown_kid"})
    monotonic[0] += 61
    sign_in(CLAIRE, 502)
    assert fetched.count("jwks") == 2  # one more fetch: PSC may have rolled its keys
    sign_in(JULIEN, 502)
    assert fetched.count("jwks") == 2  # within the minute: not again
    monotonic[0] += 61
    sign_in(JULIEN, 502)
    assert fetched.count("jwks") == 3
