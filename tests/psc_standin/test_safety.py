"""What the stand-in must not do: write a secret in its logs, give one token twice under
concurrent polls, start without an address."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from proclient.psc_standin import PscStandIn
from tests.psc_standin.helpers import (
    PHARMACIST,
    backchannel,
    error_of,
    poll,
    psc_clock_advance,
    refresh,
    signed_in,
    start,
)
from tests.psc_support import DEFAULT_USERS


def test_no_secret_token_or_national_id_in_the_logs(psc, http, caplog):
    caplog.set_level(logging.DEBUG)
    auth_req_id = start(psc, http)
    poll(psc, http, auth_req_id)
    psc.standin.approve(PHARMACIST)
    psc_clock_advance(psc, 5)
    tokens = poll(psc, http, auth_req_id).json()
    refreshed = refresh(psc, http, tokens["refresh_token"]).json()
    backchannel(psc, http, client_secret="wrong")
    backchannel(psc, http, "899700099999")
    psc.standin.forge["signing"] = "not-a-forgery"
    with pytest.raises(httpx.HTTPStatusError):  # a test's mistake: a 500, said in the log
        start_and_fail = start(psc, http)
        psc.standin.approve(PHARMACIST)
        poll(psc, http, start_and_fail).raise_for_status()

    assert caplog.records, "the stand-in logs what happens"
    secrets = [
        psc.material.client_secret,
        auth_req_id,
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
        refreshed["refresh_token"],
        PHARMACIST,
        "899700099999",
    ]
    logged = caplog.text
    for secret in secrets:
        assert secret not in logged


@pytest.fixture
def no_interval(psc):
    """Polls as close as they like (no slow_down): only the single use is left to check."""
    psc.standin.interval = 0
    yield
    psc.standin.interval = 5


def test_concurrent_polls_give_the_tokens_once(psc, psc_tls, no_interval):
    with httpx.Client(verify=psc_tls[2], timeout=10) as http:
        auth_req_id = start(psc, http)
    psc.standin.approve(PHARMACIST)

    def one_poll(_: int) -> httpx.Response:
        with httpx.Client(verify=psc_tls[2], timeout=10) as client:
            return poll(psc, client, auth_req_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(one_poll, range(16)))

    assert [response.status_code for response in responses].count(200) == 1
    refused = [error_of(response) for response in responses if response.status_code != 200]
    assert refused == ["invalid_grant"] * 15
    assert psc.standin.token_polls[auth_req_id] == 16


def test_concurrent_phone_and_requests_keep_one_answer_per_request(psc, http):
    ids = [start(psc, http) for _ in range(10)]

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: psc.standin.approve(PHARMACIST), range(12)))

    assert answers.count(True) == 10 and answers.count(False) == 2
    assert psc.standin.pending() == []
    assert all(poll(psc, http, auth_req_id).status_code == 200 for auth_req_id in ids)


def test_the_issuer_needs_an_address(psc):
    standin = PscStandIn(psc.material, DEFAULT_USERS)
    with pytest.raises(RuntimeError):
        standin.issuer  # noqa: B018
    standin.set_base_url("https://127.0.0.1:8443/")
    assert standin.issuer == "https://127.0.0.1:8443/auth/realms/esante-wallet"


def test_a_refresh_gives_an_id_token_of_the_same_professional(psc, http):
    tokens = signed_in(psc, http)
    renewed = refresh(psc, http, tokens["refresh_token"]).json()
    claims = psc.standin.signer.verify(renewed["id_token"])
    assert claims["preferred_username"] == PHARMACIST
    assert error_of(refresh(psc, http, "made-up")) == "invalid_grant"
