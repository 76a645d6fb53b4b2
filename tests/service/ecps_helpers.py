"""A workstation's side of the e-CPS sign-in, in plain httpx, for the service's e-CPS tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import httpx

from .helpers import LE_GOFF

CLAIRE = "899700024450"  # MARTIN Claire, pharmacienne (the stand-in's first demo user)
JULIEN = "899700031216"
UNKNOWN = "899700099999"  # a well-formed RPPS id PSC does not know
HEADER = "Proclient-Workstation"


@dataclass
class Workstation:
    """One workstation: its own secret, its HTTP client to the service."""

    http: httpx.Client
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def headers(self) -> dict[str, str]:
        return {HEADER: self.secret}

    def start(self, national_id: str = CLAIRE) -> httpx.Response:
        return self.http.post(
            "/v1/auth/ecps", json={"national_id": national_id}, headers=self.headers
        )

    def started(self, national_id: str = CLAIRE) -> str:
        response = self.start(national_id)
        assert response.status_code == 201, response.text
        return response.json()["request_id"]

    def poll(self, request_id: str) -> httpx.Response:
        return self.http.post(
            "/v1/auth/ecps/poll", json={"request_id": request_id}, headers=self.headers
        )

    def cancel(self, request_id: str) -> httpx.Response:
        return self.http.post(
            "/v1/auth/ecps/cancel", json={"request_id": request_id}, headers=self.headers
        )

    def status(self, token: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(
            "/v1/dmp/status",
            json={"ins": {"value": LE_GOFF.ins.value, "oid": LE_GOFF.ins.oid}},
            headers={
                "Authorization": f"Bearer {token}",
                **(self.headers if headers is None else headers),
            },
        )


def sign_in(server, station: Workstation, national_id: str = CLAIRE) -> dict:
    """The whole sign-in: start, a first poll (pending), the phone's approval, the next turn
    one interval later (both clocks), approved: the session."""
    request_id = station.started(national_id)
    first = station.poll(request_id)
    assert first.status_code == 200 and first.json()["status"] == "pending", first.text
    assert server.standin.approve(national_id)
    server.advance(first.json()["interval"])
    answer = station.poll(request_id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "approved"
    return answer.json()["session"]


def problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert set(body) == {"type", "title", "status", "detail", "code"}
    return body
