"""The outside of the e-CPS routes on the real service with the real PSC stand-in, both
backends: sign-in starts limited per national id and per address (counted in the database:
a flood cannot make PSC push to a phone more than a few times), the request limits and
problem+json of every route, and nothing secret in the logs or the problems' texts."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

import httpx
from stdnum import luhn

from .ecps_helpers import CLAIRE, HEADER, Workstation, problem, sign_in


def test_a_flood_of_starts_for_one_national_id_reaches_psc_three_times(ecps_server, tls):
    def start(_index: int) -> httpx.Response:
        with httpx.Client(base_url=ecps_server.base_url, verify=tls.context) as http:
            return Workstation(http).start(CLAIRE)  # a new workstation each time

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(start, range(40)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 3 + [429] * 37
    assert ecps_server.standin.backchannel_requests == 3
    assert len(ecps_server.standin.pending(CLAIRE)) == 3
    limited = next(answer for answer in answers if answer.status_code == 429)
    problem(limited, 429, "AUTH_RATE_LIMITED")
    assert 1 <= int(limited.headers["Retry-After"]) <= 300
    # Once the oldest start leaves the 5 min window, one more goes through.
    ecps_server.advance(301)
    assert start(0).status_code == 201
    assert ecps_server.standin.backchannel_requests == 4


def test_starts_are_limited_per_address_whatever_the_national_ids(ecps_server, station):
    # Well-formed RPPS ids (their Luhn key right) unknown to PSC: 404 each.
    national_ids = [
        f"8{base}{luhn.calc_check_digit(base)}" for base in map(str, range(9970000100, 9970000125))
    ]
    answers = [station.start(national_id) for national_id in national_ids]
    assert [a.status_code for a in answers[:20]] == [404] * 20
    for answer in answers[20:]:
        problem(answer, 429, "AUTH_RATE_LIMITED")
        assert int(answer.headers["Retry-After"]) == 300
    assert ecps_server.standin.backchannel_requests == 20


def test_the_request_limits_apply_to_the_e_cps_routes(ecps_server, station):
    http = station.http
    for path in ("/v1/auth/ecps", "/v1/auth/ecps/poll", "/v1/auth/ecps/cancel"):
        big = http.post(
            path,
            content=b'{"request_id": "' + b"A" * (40 * 1024) + b'"}',
            headers={**station.headers, "Content-Type": "application/json"},
        )
        problem(big, 413, "REQUEST_TOO_LARGE")
        deep = http.post(
            path,
            content=("[" * 50 + "]" * 50).encode(),
            headers={**station.headers, "Content-Type": "application/json"},
        )
        problem(deep, 422, "REQUEST_TOO_COMPLEX")
        not_json = http.post(
            path,
            content=b"national_id=899700024450",
            headers={**station.headers, "Content-Type": "application/json"},
        )
        problem(not_json, 422, "VALIDATION")
        extra = http.post(
            path,
            json={"request_id": "A" * 43, "national_id": CLAIRE, "x": 1},
            headers=station.headers,
        )
        body = problem(extra, 422, "VALIDATION")
        assert CLAIRE not in body["detail"]
    no_header = http.post("/v1/auth/ecps", json={"national_id": CLAIRE})
    assert "proclient-workstation" in problem(no_header, 422, "VALIDATION")["detail"]
    short = http.post("/v1/auth/ecps", json={"national_id": CLAIRE}, headers={HEADER: "too-short"})
    problem(short, 422, "VALIDATION")
    for wrong in ("89970002445", "99970002445X", "1234567890", "8997000244500", ""):
        refused = station.start(wrong)
        body = problem(refused, 422, "VALIDATION")
        assert "national_id" in body["detail"]
        assert not wrong or wrong not in refused.text
    assert station.start("0123456789").status_code == 404  # an ADELI id: the shape passes
    assert station.start("02B1234567").status_code == 404  # Corsica
    assert ecps_server.standin.backchannel_requests == 2


def test_no_token_secret_auth_req_id_or_national_id_in_logs_or_problems(
    ecps_server, station, caplog
):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    request_id = station.started()
    (auth_req_id,) = ecps_server.standin.pending(CLAIRE)
    texts.append(station.poll(request_id).text)
    session = sign_in(ecps_server, station, "899700031216")
    texts.append(station.status(session["token"]).text)
    ecps_server.advance(121)  # a refresh
    texts.append(station.status(session["token"]).text)
    ecps_server.standin.forge.update({"signing": "other_key"})
    other = station.started("899700045679")
    station.poll(other)
    ecps_server.standin.approve("899700045679")
    ecps_server.advance(5)
    texts.append(station.poll(other).text)
    texts.append(station.poll(request_id).text)  # expired by now
    texts.append(station.start("899700099999").text)  # unknown professional
    texts.append(station.cancel(request_id).text)
    texts.append(
        station.http.post(
            "/v1/auth/logout",
            headers={"Authorization": f"Bearer {session['token']}", **station.headers},
        ).text
    )
    logs = caplog.text + "\n".join(
        json.dumps(record.args, default=str) for record in caplog.records if record.args
    )
    assert "e-CPS session opened" in logs  # the log was captured
    secrets = {
        "national ids": ["899700024450", "899700031216", "899700045679", "899700099999"],
        "client secret": [ecps_server.psc.material.client_secret],
        "auth_req_id": [auth_req_id],
        "request ids": [request_id, other],
        "session token": [session["token"]],
        "workstation": [station.secret],
        "PSC tokens": list(ecps_server.standin._refresh_tokens),
    }
    for what, values in secrets.items():
        for value in values:
            assert value not in logs, what
            assert all(value not in text for text in texts), what
    assert repr(ecps_server.settings.psc).count(ecps_server.psc.material.client_secret) == 0
