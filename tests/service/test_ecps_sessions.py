"""The e-CPS session's life on the real service with the real PSC stand-in, both backends:
PSC's access token refreshed while requests come, the 30 min idle end, the 4 h end (the
service's clock, moved by hand with the stand-in's), PSC refusing a refresh, and PSC's tokens
sealed at rest."""

from __future__ import annotations

import logging

import pytest

from .ecps_helpers import CLAIRE, problem, sign_in


def _ecps_row(server) -> tuple:
    with server.storage.read() as conn:
        return tuple(
            conn.execute(
                "SELECT refresh_token, access_expires_at, last_seen FROM ecps_sessions"
            ).fetchone()
        )


def test_psc_s_access_token_is_refreshed_when_due_while_requests_come(ecps_server, station):
    session = sign_in(ecps_server, station)
    sealed, access_end, _seen = _ecps_row(ecps_server)
    ecps_server.advance(60)  # PSC's access token (120 s) not due yet
    assert station.status(session["token"]).status_code == 200
    assert _ecps_row(ecps_server)[:2] == (sealed, access_end)
    ecps_server.advance(61)  # 2 min of activity: due
    assert station.status(session["token"]).status_code == 200
    new_sealed, new_end, _seen = _ecps_row(ecps_server)
    assert new_sealed != sealed and new_end == pytest.approx(access_end + 121, abs=1)
    # Refresh after refresh, as long as requests come: well past the first refresh token's
    # 30 min, the session lives on (each refresh gives a new one).
    for _ in range(20):
        ecps_server.advance(110)
        assert station.status(session["token"]).status_code == 200
    assert _ecps_row(ecps_server)[0] != new_sealed


def test_psc_refusing_a_refresh_ends_the_session(ecps_server, station):
    session = sign_in(ecps_server, station)
    ecps_server.standin.end_sessions(CLAIRE)  # logged out on PSC's side
    ecps_server.advance(60)
    assert station.status(session["token"]).status_code == 200  # no refresh due: not asked
    ecps_server.advance(61)
    problem(station.status(session["token"]), 401, "AUTH_SESSION_EXPIRED")
    problem(station.status(session["token"]), 401, "AUTH_REQUIRED")  # gone
    with ecps_server.storage.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM ecps_sessions").fetchone()[0] == 0


def test_thirty_minutes_without_a_request_end_the_session(ecps_server, station):
    session = sign_in(ecps_server, station)
    ecps_server.advance(29 * 60)
    assert station.status(session["token"]).status_code == 200  # the idle clock restarts
    ecps_server.advance(29 * 60)
    assert station.status(session["token"]).status_code == 200
    ecps_server.advance(30 * 60 + 1)
    body = problem(station.status(session["token"]), 401, "AUTH_SESSION_EXPIRED")
    assert "e-CPS" in body["detail"]


def test_four_hours_after_the_sign_in_the_session_ends_however_active(ecps_server, station, caplog):
    caplog.set_level(logging.INFO)
    session = sign_in(ecps_server, station)
    for _ in range(23):  # a request every 10 min for 3 h 50
        ecps_server.advance(600)
        assert station.status(session["token"]).status_code == 200
    # PSC's clock held back an hour: PSC would still refresh; the service's own end holds.
    ecps_server.standin_clock.offset = -3600
    ecps_server.advance(601)
    problem(station.status(session["token"]), 401, "AUTH_SESSION_EXPIRED")
    assert "e-CPS session ended: 4 h end" in caplog.text


def test_psc_s_tokens_are_sealed_at_rest(ecps_server, station):
    request_id = station.started()
    with ecps_server.storage.read() as conn:
        row = conn.execute("SELECT auth_req_id, state FROM ecps_requests").fetchone()
    assert row[1] == "pending" and row[0] is not None
    (auth_req_id,) = ecps_server.standin.pending(CLAIRE)
    assert auth_req_id.encode() not in bytes(row[0])
    station.poll(request_id)
    ecps_server.standin.approve(CLAIRE)
    ecps_server.advance(5)
    session = station.poll(request_id).json()["session"]
    sealed = bytes(_ecps_row(ecps_server)[0])
    assert len(sealed) > 12 + 16  # nonce, ciphertext and tag
    with ecps_server.storage.read() as conn:
        tables = {
            name: conn.execute(f"SELECT * FROM {name}").fetchall()  # noqa: S608
            for name in ("ecps_requests", "ecps_sessions", "sessions", "audit")
        }
    dump = repr(tables)
    assert session["token"] not in dump  # only its SHA-256
    assert station.secret not in dump
    assert request_id not in dump
    assert auth_req_id not in dump
    # The refresh token: the stand-in knows it in clear; the database does not.
    for known in ecps_server.standin._refresh_tokens:
        assert known not in dump
