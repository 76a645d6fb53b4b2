"""The OpenAPI document kept in the repository, and schemathesis against the service."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from proclient.server.app import create_app, openapi_json
from proclient.server.demo import seed_demo_dmps
from proclient.server.settings import ServerSettings

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES_PER_OPERATION = 30  # per generation mode; keeps the run well under a minute


def test_openapi_document_in_the_repository_is_current():
    assert DOCUMENT.read_text(encoding="utf-8") == openapi_json(), (
        "docs/openapi.json is stale: regenerate it with "
        "`proclient serve --openapi docs/openapi.json`"
    )
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert set(document["paths"]) == {
        "/v1/health",
        "/v1/ready",
        "/v1/auth/challenge",
        "/v1/auth/session",
        "/v1/auth/ecps",
        "/v1/auth/ecps/poll",
        "/v1/auth/ecps/cancel",
        "/v1/auth/logout",
        "/v1/dmp/status",
        "/v1/dmp",
        "/v1/dmp/reactivation",
        "/v1/dmp/web-access",
        "/v1/dmp/web-access/password",
        "/v1/insi/card",
        "/v1/insi/traits",
        "/v1/insi/verification",
    }
    create = document["paths"]["/v1/dmp"]["post"]
    assert {"name": "Idempotency-Key", "in": "header", "required": True}.items() <= (
        create["parameters"][0].items()
    )
    assert create["security"] == [{"HTTPBearer": []}]
    for path in ("/v1/insi/card", "/v1/insi/traits", "/v1/insi/verification"):
        operation = document["paths"][path]["post"]
        assert operation["tags"] == ["INSi"] and operation["security"] == [{"HTTPBearer": []}]
        assert "parameters" not in operation  # a read: no Idempotency-Key
    answer = document["components"]["schemas"]["InsiAnswerOut"]["properties"]["code"]
    assert answer["enum"] == ["00", "01", "02"]
    for path in ("/v1/auth/ecps", "/v1/auth/ecps/poll", "/v1/auth/ecps/cancel"):
        operation = document["paths"][path]["post"]
        (header,) = operation["parameters"]
        assert header["name"] == "Proclient-Workstation" and header["required"] is True
        assert header["schema"]["pattern"] == "^[A-Za-z0-9_-]{43}$"
    identity = document["components"]["schemas"]["CreationIn"]["properties"]["identity"]
    assert {"$ref": "#/components/schemas/IdentityIn"} in identity["anyOf"]


async def login(app, credential) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dmp.test") as http:
        challenge = (await http.post("/v1/auth/challenge")).json()
        signature = credential.sign(base64.b64decode(challenge["nonce"]))
        session = await http.post(
            "/v1/auth/session",
            json={
                "challenge_id": challenge["challenge_id"],
                "certificate": credential.certificate_pem.decode(),
                "signature": base64.b64encode(signature).decode(),
            },
        )
    return session.json()["token"]


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(database_url, pki, credential, capsys):
    database = database_url()
    app = create_app(ServerSettings(database=database, trusted_ca_pem=pki.ca_pem))
    try:
        # The demo register, so that generated look-ups meet real identities too.
        seed_demo_dmps(database, pseudonym_secret=app.state.settings.pseudonym_secret)
        token = asyncio.run(login(app, credential))
        schema = schemathesis.openapi.from_asgi("/v1/openapi.json", app)
        cases: list[int] = []
        failures: list[str] = []
        paths: set[str] = set()

        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(
                    max_examples=EXAMPLES_PER_OPERATION,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                    derandomize=True,
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def run(case) -> None:
                    headers = {"Authorization": f"Bearer {token}", **(case.headers or {})}
                    response = case.call(headers=headers)
                    cases.append(response.status_code)
                    paths.add(case.path)
                    # Without PSC settings, the e-CPS routes are 501 ECPS_NOT_CONFIGURED.
                    not_configured = response.status_code == 501 and case.path.startswith(
                        "/v1/auth/ecps"
                    )
                    if response.status_code >= 500 and not not_configured:
                        failures.append(f"{case.method} {case.path} -> {response.status_code}")

                try:
                    run()
                except Unsatisfiable:
                    # No parameter to make invalid (health, challenge): nothing to generate.
                    assert mode is GenerationMode.NEGATIVE
    finally:
        app.state.storage.close()
    with capsys.disabled():
        print(f"\nschemathesis: {len(cases)} cases, {len(failures)} server errors")
    assert not failures, failures[:5]
    assert len(cases) >= 10 * EXAMPLES_PER_OPERATION  # every operation was exercised
    assert {"/v1/insi/card", "/v1/insi/traits", "/v1/insi/verification"} <= paths
    assert {200, 201} & set(cases), "no case was ever accepted"
    assert {401, 422} <= set(cases)
