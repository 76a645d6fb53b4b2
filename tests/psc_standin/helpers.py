"""Calls a relying party makes to the stand-in (the PSC client of ``proclient serve`` makes
the same ones), written plainly with httpx."""

from __future__ import annotations

from typing import Any

import httpx

from tests.psc_support import RunningPsc

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
PHARMACIST = "899700024450"
NURSE = "899700031216"


def endpoints(psc: RunningPsc, http: httpx.Client) -> dict[str, Any]:
    response = http.get(psc.discovery_url)
    response.raise_for_status()
    return response.json()


def credentials(psc: RunningPsc) -> dict[str, str]:
    return {"client_id": psc.material.client_id, "client_secret": psc.material.client_secret}


def backchannel(
    psc: RunningPsc, http: httpx.Client, national_id: str = PHARMACIST, **overrides: str | None
) -> httpx.Response:
    form: dict[str, str | None] = {
        "scope": "openid scope_all",
        "acr_values": "eidas1",
        "login_hint": national_id,
        "binding_message": "proclient",
        **credentials(psc),
    }
    form.update(overrides)
    data = {name: value for name, value in form.items() if value is not None}
    return http.post(psc.issuer + "/protocol/openid-connect/ext/ciba/auth", data=data)


def start(psc: RunningPsc, http: httpx.Client, national_id: str = PHARMACIST) -> str:
    response = backchannel(psc, http, national_id)
    assert response.status_code == 200, response.text
    return response.json()["auth_req_id"]


def poll(psc: RunningPsc, http: httpx.Client, auth_req_id: str) -> httpx.Response:
    form = {"grant_type": CIBA_GRANT, "auth_req_id": auth_req_id, **credentials(psc)}
    return http.post(psc.issuer + "/protocol/openid-connect/token", data=form)


def refresh(psc: RunningPsc, http: httpx.Client, refresh_token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **credentials(psc)}
    return http.post(psc.issuer + "/protocol/openid-connect/token", data=form)


def error_of(response: httpx.Response) -> str:
    return response.json()["error"]


def signed_in(psc: RunningPsc, http: httpx.Client, national_id: str = PHARMACIST) -> dict:
    """A whole CIBA sign-in: request, the phone approves, one poll; the token response."""
    auth_req_id = start(psc, http, national_id)
    assert psc.standin.approve(national_id)
    response = poll(psc, http, auth_req_id)
    assert response.status_code == 200, response.text
    return response.json()


def psc_clock_advance(psc: RunningPsc, seconds: float) -> None:
    """Move the stand-in's clock (the conftest's EpochClock)."""
    psc.standin.clock.advance(seconds)
