"""Professional authentication against the real service over HTTPS."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from proclient.core.domain import Professional
from proclient.credentials.software import SoftwareCredential, unlock_demo
from proclient.server.pki import create_ca, issue_professional
from proclient.service.client import DmpServiceClient
from proclient.service.errors import ServiceError

from .helpers import LE_GOFF


class SigningWrapper:
    """A credential whose signature step can be tampered with or delayed."""

    def __init__(self, inner: SoftwareCredential, *, before_sign=None, tamper=False) -> None:
        self._inner, self._before_sign, self._tamper = inner, before_sign, tamper

    @property
    def professional(self) -> Professional:
        return self._inner.professional

    @property
    def certificate_pem(self) -> bytes:
        return self._inner.certificate_pem

    def sign(self, data: bytes) -> bytes:
        if self._before_sign:
            self._before_sign()
        return self._inner.sign(b"not the nonce" if self._tamper else data)


async def test_login_returns_the_professional_named_by_the_certificate(client, credential):
    assert await client.health()
    professional = await client.login(credential)
    assert professional == Professional(
        "899700024450", "MARTIN", "Claire", "21", "Pharmacie de la Gare"
    )
    assert (await client.status(LE_GOFF.ins)).status == "not_found"


async def test_certificate_from_another_ca_is_refused(client, credential):
    foreign_ca = create_ca("Une autre AC")
    issued = issue_professional(foreign_ca, credential.professional)
    impostor = SoftwareCredential(issued.key, issued.certificate)
    with pytest.raises(ServiceError) as refused:
        await client.login(impostor)
    assert refused.value.code == "AUTH_CERT_UNTRUSTED"
    assert refused.value.status == 401
    assert not client.connected


async def test_expired_certificate_is_refused(client, pki, credential):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from proclient.server.pki import CertifiedKey

    ca_key = serialization.load_pem_private_key(
        (pki.directory / "ca.key").read_bytes(), password=None
    )
    ca = CertifiedKey(x509.load_pem_x509_certificate(pki.ca_pem), ca_key)
    old = issue_professional(
        ca, credential.professional, days=1, now=datetime.now(UTC) - timedelta(days=30)
    )
    with pytest.raises(ServiceError) as refused:
        await client.login(SoftwareCredential(old.key, old.certificate))
    assert refused.value.code == "AUTH_CERT_EXPIRED"


async def test_bad_signature_is_refused(client, credential):
    with pytest.raises(ServiceError) as refused:
        await client.login(SigningWrapper(credential, tamper=True))
    assert refused.value.code == "AUTH_BAD_SIGNATURE"


async def test_expired_challenge_is_refused(client, server, credential):
    slow = SigningWrapper(credential, before_sign=lambda: server.clock.advance(seconds=61))
    with pytest.raises(ServiceError) as refused:
        await client.login(slow)
    assert refused.value.code == "AUTH_CHALLENGE_EXPIRED"


async def test_replayed_challenge_is_refused(server, tls, credential):
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        challenge = (await http.post("/v1/auth/challenge")).json()
        signature = credential.sign(base64.b64decode(challenge["nonce"]))
        body = {
            "challenge_id": challenge["challenge_id"],
            "certificate": credential.certificate_pem.decode(),
            "signature": base64.b64encode(signature).decode(),
        }
        first = await http.post("/v1/auth/session", json=body)
        again = await http.post("/v1/auth/session", json=body)
    assert first.status_code == 200 and first.json()["token"]
    assert again.status_code == 401
    assert again.json()["code"] == "AUTH_CHALLENGE_USED"


async def test_requests_without_token_are_refused_as_problem_json(server, tls):
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        response = await http.post(
            "/v1/dmp/status", json={"ins": {"value": LE_GOFF.ins.value, "oid": LE_GOFF.ins.oid}}
        )
        forged = await http.post(
            "/v1/dmp/status",
            json={"ins": {"value": LE_GOFF.ins.value, "oid": LE_GOFF.ins.oid}},
            headers={"Authorization": "Bearer forged-token"},
        )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "AUTH_REQUIRED"
    assert set(problem) == {"type", "title", "status", "detail", "code"}
    assert "carte CPS" in problem["detail"]
    assert forged.json()["code"] == "AUTH_REQUIRED"


async def test_client_without_login_gets_auth_required(client):
    with pytest.raises(ServiceError) as refused:
        await client.status(LE_GOFF.ins)
    assert refused.value.code == "AUTH_REQUIRED"


async def test_expired_session_is_renewed_with_the_same_credential(connected, server, tls):
    token = connected._token
    server.clock.advance(minutes=16)
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        stale = await http.post(
            "/v1/dmp/status",
            json={"ins": {"value": LE_GOFF.ins.value, "oid": LE_GOFF.ins.oid}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert stale.json()["code"] == "AUTH_SESSION_EXPIRED"
    assert (await connected.status(LE_GOFF.ins)).status == "not_found"
    assert connected._token != token


@pytest.mark.slow
async def test_unreachable_service_says_so_in_french(tls):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = DmpServiceClient(f"https://127.0.0.1:{port}", verify=tls.context, retry_budget=0.5)
    try:
        assert not await client.health()
        with pytest.raises(ServiceError) as refused:
            await client.login(object())  # type: ignore[arg-type]  # never reached
        assert refused.value.code == "SERVICE_UNAVAILABLE"
        assert str(refused.value) == (
            "Le service DMP ne répond pas : vérifiez la connexion puis réessayez."
        )
    finally:
        await client.aclose()


async def test_ca_bundle_path_is_accepted_as_verify(server, tls, credential):
    client = DmpServiceClient(server.base_url, verify=str(tls.ca_bundle))
    try:
        assert (await client.login(credential)).id_nat == credential.professional.id_nat
    finally:
        await client.aclose()


async def test_service_with_an_unknown_certificate_is_refused(server, credential):
    client = DmpServiceClient(server.base_url)  # the system's CAs do not know trustme's
    try:
        with pytest.raises(ServiceError) as refused:
            await client.login(credential)
        assert refused.value.code == "SERVICE_TLS"
    finally:
        await client.aclose()


async def test_failed_logins_are_rate_limited_per_certificate(connected, server, tls, pki):
    """Five refusals for one certificate from one address within a minute: the next refusal
    is 429 with Retry-After instead of the 401 saying why, while a valid signature still
    passes (server/auth.py says why); another professional is not affected; a minute later
    a refusal says why again."""
    pharmacist = unlock_demo(pki.default)
    bad = SigningWrapper(pharmacist, tamper=True)
    for _ in range(5):
        with pytest.raises(ServiceError) as refused:
            await connected.login(bad)
        assert refused.value.code == "AUTH_BAD_SIGNATURE"

    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        challenge = (await http.post("/v1/auth/challenge")).json()
        limited = await http.post(
            "/v1/auth/session",
            json={
                "challenge_id": challenge["challenge_id"],
                "certificate": pharmacist.certificate_pem.decode(),
                "signature": base64.b64encode(pharmacist.sign(b"not the nonce")).decode(),
            },
        )
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["code"] == "AUTH_RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    with pytest.raises(ServiceError) as refused:
        await connected.login(bad)
    assert (refused.value.code, refused.value.status) == ("AUTH_RATE_LIMITED", 429)
    assert "attendez" in refused.value.message

    assert (await connected.login(pharmacist)).id_nat == pharmacist.professional.id_nat
    nurse = unlock_demo(pki.professionals[1])
    assert (await connected.login(nurse)).id_nat == nurse.professional.id_nat
    server.clock.advance(seconds=61)
    with pytest.raises(ServiceError) as refused:
        await connected.login(bad)
    assert refused.value.code == "AUTH_BAD_SIGNATURE"


async def test_only_health_and_challenge_answer_without_a_session(server, tls):
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        assert (await http.get("/v1/health")).status_code == 200
        assert (await http.post("/v1/auth/challenge")).status_code == 200
        for path in (
            "/v1/dmp",
            "/v1/dmp/reactivation",
            "/v1/dmp/web-access",
            "/v1/dmp/status",
            "/v1/insi/card",
            "/v1/insi/traits",
            "/v1/insi/verification",
        ):
            response = await http.post(path, json={}, headers={"Idempotency-Key": "k"})
            assert response.status_code == 401, path
            assert response.json()["code"] == "AUTH_REQUIRED"


async def test_nul_characters_are_refused_before_the_database(server, tls):
    """PostgreSQL text cannot hold NUL: such a request is a 422, never a server error."""
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        response = await http.post(
            "/v1/auth/session",
            json={"challenge_id": "a\u0000b", "certificate": "x", "signature": "eA=="},
        )
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION"


def _paths_seen(client: DmpServiceClient) -> list[str]:
    """The paths of the requests ``client`` sends from now on."""
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    client._http.event_hooks["request"].append(hook)
    return seen


async def test_a_challenge_prepared_while_the_pin_is_typed_makes_the_login_one_request(
    client, credential
):
    assert await client.prepare_login()
    seen = _paths_seen(client)
    professional = await client.login(credential)
    assert professional.id_nat == credential.professional.id_nat
    assert seen == ["/v1/auth/session"]  # the challenge and the connection came before


async def test_a_prepared_challenge_serves_once_and_a_stale_one_is_not_used(
    client, credential, monkeypatch
):
    import proclient.service.client as module

    assert await client.prepare_login()
    await client.login(credential)
    seen = _paths_seen(client)
    await client.login(credential)  # nothing prepared any more: a challenge of its own
    assert seen == ["/v1/auth/challenge", "/v1/auth/session"]

    assert await client.prepare_login()
    monkeypatch.setattr(module, "PREPARED_CHALLENGE_SECONDS", -1.0)  # already too old
    seen.clear()
    await client.login(credential)
    assert seen == ["/v1/auth/challenge", "/v1/auth/session"]


async def test_a_prepared_challenge_the_service_refuses_is_replaced(client, credential):
    assert await client.prepare_login()
    challenge_id = client._prepared[1]
    # Someone (a lost attempt) used that challenge meanwhile: the service refuses it.
    await client._http.post(
        "/v1/auth/session",
        json={
            "challenge_id": challenge_id,
            "certificate": credential.certificate_pem.decode("ascii"),
            "signature": base64.b64encode(credential.sign(b"not the nonce")).decode("ascii"),
        },
    )
    seen = _paths_seen(client)
    professional = await client.login(credential)
    assert professional.id_nat == credential.professional.id_nat
    assert seen == ["/v1/auth/session", "/v1/auth/challenge", "/v1/auth/session"]
