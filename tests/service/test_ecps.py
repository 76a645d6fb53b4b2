"""The e-CPS sign-in through the real service (HTTPS on loopback) and the real Pro Santé
Connect stand-in (HTTPS on loopback), on SQLite and PostgreSQL: each CIBA outcome, the
polling rhythm, cancel, PSC unreachable, and the session that follows."""

from __future__ import annotations

import socket

import httpx

from proclient.core.problems import problem_message

from .conftest import psc_settings_for
from .ecps_helpers import CLAIRE, UNKNOWN, Workstation, problem, sign_in


def test_approved_sign_in_opens_a_session_for_the_professional_of_the_userinfo(
    ecps_server, station
):
    started = station.start()
    assert started.status_code == 201
    body = started.json()
    assert set(body) == {"request_id", "expires_in", "interval"}
    assert (body["expires_in"], body["interval"]) == (120, 5)  # PSC's numbers
    assert ecps_server.standin.backchannel_requests == 1
    assert ecps_server.standin.pending(CLAIRE)  # PSC pushed to the phone

    pending = station.poll(body["request_id"])
    assert pending.json() == {"status": "pending", "interval": 5, "expires_in": 120}
    assert ecps_server.standin.approve(CLAIRE)
    ecps_server.advance(5)
    approved = station.poll(body["request_id"])
    assert approved.status_code == 200
    session = approved.json()["session"]
    assert set(session) == {"token", "expires_at", "professional", "method"}
    assert session["method"] == "e-cps"
    assert session["professional"] == {
        "id_nat": CLAIRE,
        "last_name": "MARTIN",
        "first_name": "Claire",
        "profession_code": "21",
        "structure": "Pharmacie de la Gare",
    }
    status = station.status(session["token"])
    assert status.status_code == 200 and status.json()["status"] == "not_found"
    # PSC's tokens never leave the service.
    assert "refresh" not in approved.text and "id_token" not in approved.text
    # The audit names the method.
    with ecps_server.storage.read() as conn:
        actions = conn.execute("SELECT id_nat, action FROM audit").fetchall()
    assert (CLAIRE, "session-ecps") in [tuple(row) for row in actions]


def test_the_service_asks_psc_at_most_once_per_interval_however_often_the_station_polls(
    ecps_server, station
):
    request_id = station.started()
    answers = []
    for _ in range(100):  # 10 s of polls every 0.1 s, on both clocks
        answers.append(station.poll(request_id).json())
        ecps_server.advance(0.1)
    polls = ecps_server.standin.token_polls
    assert sum(polls.values()) == 2  # at 0 s and 5 s; never a slow_down
    assert all(answer["status"] == "pending" for answer in answers)
    assert {answer["interval"] for answer in answers} == {5}
    assert answers[-1]["expires_in"] <= 111


def test_slow_down_grows_the_interval_and_the_service_keeps_to_it(ecps_server, station):
    request_id = station.started()
    assert station.poll(request_id).json()["interval"] == 5  # first poll: pending
    # The service's clock runs ahead of PSC's: its next turn comes too early for PSC.
    ecps_server.standin_clock.offset = -3
    ecps_server.advance(5)
    slowed = station.poll(request_id).json()
    assert slowed["status"] == "pending" and slowed["interval"] == 10
    assert sum(ecps_server.standin.token_polls.values()) == 2
    for _ in range(99):  # 9.9 s more: PSC is not asked again before the grown interval
        ecps_server.advance(0.1)
        assert station.poll(request_id).json()["interval"] == 10
    assert sum(ecps_server.standin.token_polls.values()) == 2
    ecps_server.standin_clock.offset = 0
    assert ecps_server.standin.approve(CLAIRE)
    ecps_server.advance(0.1)
    assert station.poll(request_id).json()["status"] == "approved"
    assert sum(ecps_server.standin.token_polls.values()) == 3


def test_refused_on_the_phone(ecps_server, station):
    request_id = station.started()
    station.poll(request_id)
    assert ecps_server.standin.refuse(CLAIRE)
    ecps_server.advance(5)
    body = problem(station.poll(request_id), 403, "ECPS_REFUSED")
    assert body["detail"] == problem_message("ECPS_REFUSED")
    problem(station.poll(request_id), 403, "ECPS_REFUSED")  # and stays so, without PSC
    assert sum(ecps_server.standin.token_polls.values()) == 2


def test_expired_by_psc_and_by_the_service_clock(ecps_server, station):
    request_id = station.started()
    station.poll(request_id)
    ecps_server.advance(121)  # both clocks: PSC says expired_token, the service too
    problem(station.poll(request_id), 410, "ECPS_EXPIRED")
    polls = sum(ecps_server.standin.token_polls.values())
    # The service's clock alone: past expires_in, PSC is not even asked.
    other = station.started()
    station.poll(other)
    ecps_server.standin_clock.offset = -121  # PSC's clock stays behind
    ecps_server.advance(121)
    problem(station.poll(other), 410, "ECPS_EXPIRED")
    assert sum(ecps_server.standin.token_polls.values()) == polls + 1  # the first poll only


def test_cancel_stops_the_polling(ecps_server, station):
    request_id = station.started()
    station.poll(request_id)
    assert station.cancel(request_id).status_code == 204
    polls = dict(ecps_server.standin.token_polls)
    assert ecps_server.standin.approve(CLAIRE)  # too late: nobody will redeem it
    for _ in range(5):
        ecps_server.advance(5)
        problem(station.poll(request_id), 410, "ECPS_CANCELLED")
    assert dict(ecps_server.standin.token_polls) == polls
    assert station.cancel(request_id).status_code == 204  # again: nothing changes


def test_unknown_professional(ecps_server, station):
    problem(station.start(UNKNOWN), 404, "ECPS_UNKNOWN_PROFESSIONAL")


def test_an_rpps_id_with_a_wrong_luhn_key_is_refused_before_psc_is_asked(ecps_server, station):
    wrong_key = CLAIRE[:-1] + str((int(CLAIRE[-1]) + 1) % 10)  # the right shape, a wrong key
    refused = station.start(wrong_key)
    body = problem(refused, 422, "VALIDATION")
    assert "national_id" in body["detail"] and wrong_key not in refused.text
    assert ecps_server.standin.backchannel_requests == 0
    with ecps_server.storage.read() as conn:  # not even counted against the start limits
        assert conn.execute("SELECT COUNT(*) FROM ecps_requests").fetchone()[0] == 0
    assert station.start(CLAIRE).status_code == 201  # the same professional, the right key


def test_unknown_request_and_another_workstation(ecps_server, station, tls):
    problem(station.poll("A" * 43), 404, "ECPS_REQUEST_UNKNOWN")
    request_id = station.started()
    with httpx.Client(base_url=ecps_server.base_url, verify=tls.context) as http:
        other = Workstation(http)
        problem(other.poll(request_id), 401, "AUTH_WORKSTATION_MISMATCH")
        problem(other.cancel(request_id), 401, "AUTH_WORKSTATION_MISMATCH")
    assert station.poll(request_id).json()["status"] == "pending"


def test_a_replayed_request_id_is_refused(ecps_server, station):
    request_id = station.started()
    station.poll(request_id)
    ecps_server.standin.approve(CLAIRE)
    ecps_server.advance(5)
    assert station.poll(request_id).json()["status"] == "approved"
    ecps_server.advance(5)
    problem(station.poll(request_id), 409, "ECPS_REQUEST_USED")
    problem(station.cancel(request_id), 409, "ECPS_REQUEST_USED")


def test_the_session_token_is_bound_to_its_workstation(ecps_server, station, tls):
    session = sign_in(ecps_server, station)
    with httpx.Client(base_url=ecps_server.base_url, verify=tls.context) as http:
        other = Workstation(http)
        problem(other.status(session["token"]), 401, "AUTH_WORKSTATION_MISMATCH")
        problem(other.status(session["token"], headers={}), 401, "AUTH_WORKSTATION_MISMATCH")
    assert station.status(session["token"]).status_code == 200


def test_logout_ends_the_session_and_psc_s(ecps_server, station, tls):
    session = sign_in(ecps_server, station)
    bearer = {"Authorization": f"Bearer {session['token']}"}
    with httpx.Client(base_url=ecps_server.base_url, verify=tls.context) as http:
        other = Workstation(http)
        mismatch = http.post("/v1/auth/logout", headers={**bearer, **other.headers})
        problem(mismatch, 401, "AUTH_WORKSTATION_MISMATCH")
    out = station.http.post("/v1/auth/logout", headers={**bearer, **station.headers})
    assert out.status_code == 204
    problem(station.status(session["token"]), 401, "AUTH_REQUIRED")
    with ecps_server.storage.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM ecps_sessions").fetchone()[0] == 0


def test_psc_unreachable(serve, tls, psc_standin):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        settings = psc_settings_for(psc_standin.psc, tls)
        from dataclasses import replace

        settings = replace(
            settings,
            discovery_url=f"https://127.0.0.1:{port}/auth/realms/esante-wallet"
            "/.well-known/wallet-openid-configuration",
        )
        service = serve(psc=settings)
        with httpx.Client(base_url=service.base_url, verify=tls.context) as http:
            body = problem(Workstation(http).start(), 503, "ECPS_UNAVAILABLE")
    assert body["detail"] == problem_message("ECPS_UNAVAILABLE")


def test_not_configured(server, tls):
    with httpx.Client(base_url=server.base_url, verify=tls.context) as http:
        station = Workstation(http)
        problem(station.start(), 501, "ECPS_NOT_CONFIGURED")
        problem(station.poll("A" * 43), 501, "ECPS_NOT_CONFIGURED")
        problem(station.cancel("A" * 43), 501, "ECPS_NOT_CONFIGURED")


async def test_a_cps_session_ignores_the_workstation_header(connected, server, tls):
    with httpx.Client(base_url=server.base_url, verify=tls.context) as http:
        station = Workstation(http)
        assert station.status(connected._token).status_code == 200
        assert station.status(connected._token, headers={}).status_code == 200


def test_psc_s_tls_not_trusted_is_unavailable(serve, tls, psc_standin, tmp_path):
    import trustme

    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    from dataclasses import replace

    psc_standin.psc.standin.reset()
    service = serve(psc=replace(psc_settings_for(psc_standin.psc, tls), ca=other_ca))
    with httpx.Client(base_url=service.base_url, verify=tls.context) as http:
        problem(Workstation(http).start(), 503, "ECPS_UNAVAILABLE")
    assert psc_standin.psc.standin.backchannel_requests == 0


def test_a_wrong_client_secret_is_logged_for_the_operator(serve, tls, psc_standin, caplog):
    from dataclasses import replace

    psc_standin.psc.standin.reset()
    settings = replace(psc_settings_for(psc_standin.psc, tls), client_secret="not-the-secret")
    service = serve(psc=settings)
    with httpx.Client(base_url=service.base_url, verify=tls.context) as http:
        body = problem(Workstation(http).start(), 503, "ECPS_UNAVAILABLE")
    assert "registration" not in body["detail"]
    assert "PSC refused this service's client authentication (invalid_client)" in caplog.text
    assert "not-the-secret" not in caplog.text


def test_concurrent_polls_make_one_psc_request_per_interval(ecps_server, tls):
    from concurrent.futures import ThreadPoolExecutor

    with httpx.Client(base_url=ecps_server.base_url, verify=tls.context) as http:
        station = Workstation(http)
        request_id = station.started()

        def poll(_index: int) -> int:
            return station.poll(request_id).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            for _turn in range(3):
                assert set(pool.map(poll, range(16))) == {200}
                ecps_server.advance(5)
    assert sum(ecps_server.standin.token_polls.values()) == 3  # one per turn


def test_a_request_during_a_refresh_does_not_refresh_again(ecps_server, station, monkeypatch):
    """A refresh token serves once: a second refresh with it would end the session. Here a
    request arrives while the first refresh is with PSC (made from inside it: no timing)."""
    session = sign_in(ecps_server, station)
    client = ecps_server.app.state.psc
    original, during = client.refresh, []

    def refresh(token: str):
        if not during:
            during.append(station.status(session["token"]).status_code)
        return original(token)

    monkeypatch.setattr(client, "refresh", refresh)
    ecps_server.advance(121)
    assert station.status(session["token"]).status_code == 200
    assert during == [200]
    ecps_server.advance(121)
    assert station.status(session["token"]).status_code == 200  # and the chain goes on


def test_cancelled_while_psc_answers_stays_cancelled(ecps_server, station, monkeypatch):
    request_id = station.started()
    station.poll(request_id)
    client = ecps_server.app.state.psc
    original = client.poll

    def poll(auth_req_id: str):
        assert station.cancel(request_id).status_code == 204  # Esc while PSC answers
        return original(auth_req_id)

    monkeypatch.setattr(client, "poll", poll)
    ecps_server.standin.approve(CLAIRE)
    ecps_server.advance(5)
    problem(station.poll(request_id), 410, "ECPS_CANCELLED")
    with ecps_server.storage.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_userinfo_of_another_subject_is_refused(ecps_server, station):
    request_id = station.started()
    station.poll(request_id)
    ecps_server.standin.forge.update({"claims": {"sub": "someone-else"}})
    ecps_server.standin.approve(CLAIRE)
    ecps_server.advance(5)
    problem(station.poll(request_id), 502, "ECPS_TOKEN_INVALID")


async def test_logout_of_a_cps_session(connected, server, tls):
    token = connected._token
    with httpx.Client(base_url=server.base_url, verify=tls.context) as http:
        problem(http.post("/v1/auth/logout"), 401, "AUTH_REQUIRED")
        out = http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert out.status_code == 204
        problem(Workstation(http).status(token), 401, "AUTH_REQUIRED")


def test_the_purge_forgets_old_requests_and_ended_sessions(ecps_server, station):
    sign_in(ecps_server, station)
    station.started("899700031216")
    storage = ecps_server.storage
    later = ecps_server.clock().timestamp() + 4 * 3600 + 1
    deleted = storage.auth.purge(later, 60, 60)
    assert (deleted["ecps_requests"], deleted["ecps_sessions"], deleted["sessions"]) == (2, 1, 1)
