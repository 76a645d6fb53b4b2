"""Creation round-trip on the embedded service: login, then per patient INSi (by traits) +
TD0.2 + TD1.1, as the workstation does since identity vigilance (issue 11).

Floor: the service's health call through the same transport (one request, no work). The INSi
look-up alone is printed too. The bench patients are put in the service's INSi register
first (a service holds no identity it was not given).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from proclient.core.domain import OID_INS_NIR_TEST, Action, BirthDate, Consent, Ins, Sex, WebAccess
from proclient.core.identity import (
    Document,
    HeldIdentity,
    IdentityCheck,
    IdentityStatus,
    TraitsQuery,
    differences,
)
from proclient.core.records import CreationRequest
from proclient.credentials.software import unlock_demo

PATIENTS = 60


def nir(serial: int) -> str:
    body = f"1800175{serial:06d}"[:13]
    return body + f"{97 - int(body) % 97:02d}"


def given_name(serial: int) -> str:
    """A distinct first name per bench patient (INSi's traits: letters only)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    # Two letters for the first 676, a third one in front beyond (up to 18 252 names).
    third = letters[serial // 676 - 1] if serial >= 676 else ""
    return "BENCH" + third + letters[serial // 26 % 26] + letters[serial % 26]


def query(serial: int) -> TraitsQuery:
    return TraitsQuery("PATIENT", given_name(serial), Sex.MALE, BirthDate("19800101"))


def request(answer, serial: int, web: bool) -> CreationRequest:
    held = HeldIdentity("PATIENT", given_name(serial), BirthDate("19800101"), Sex.MALE)
    check = IdentityCheck(
        answer.identity,
        held,
        differences(held, answer.identity),
        Document.PASSPORT,
        IdentityStatus.QUALIFIED,
    )
    return CreationRequest(
        Action.CREATION,
        check.patient,
        Consent(creation=True),
        web_access=WebAccess(email="bench@exemple.fr") if web else None,
        identity=check,
    )


def open_service(directory: Path):
    """The embedded service (as embedded_client makes it) with the bench patients in its
    INSi register."""
    from datetime import UTC, datetime

    import httpx

    from proclient.embedded_service import EMBEDDED_BASE_URL
    from proclient.server import register
    from proclient.server.embedded import embedded_app
    from proclient.service.client import DmpServiceClient

    app, pki = embedded_app(directory)
    identities = [
        register.RegisterIdentity(
            Ins(nir(serial), OID_INS_NIR_TEST),
            "PATIENT",
            (given_name(serial),),
            "M",
            "19800101",
        )
        for serial in range(2 * PATIENTS)
    ]
    register.store(app.state.storage, identities, datetime.now(UTC).isoformat())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return DmpServiceClient(EMBEDDED_BASE_URL, transport=transport), pki


async def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="proclient-bench-"))
    start = time.perf_counter()
    client, pki = open_service(directory)
    opened = time.perf_counter() - start
    credential = unlock_demo(pki.default)
    start = time.perf_counter()
    await client.login(credential)
    login = time.perf_counter() - start
    health = []
    for _ in range(50):
        t = time.perf_counter()
        await client.health()
        health.append(time.perf_counter() - t)
    floor = statistics.median(health)
    lookups = []
    for web in (False, True):
        samples = []
        for i in range(PATIENTS):
            serial = i + (PATIENTS if web else 0)
            t = time.perf_counter()
            answer = await client.insi_by_traits(query(serial))
            lookups.append(time.perf_counter() - t)
            assert answer.code.value == "00", answer.code
            await client.status(answer.identity.ins)
            await client.submit(request(answer, serial, web), str(uuid.uuid4()))
            samples.append(time.perf_counter() - t)
        samples.sort()
        median, p90 = statistics.median(samples), samples[int(len(samples) * 0.9)]
        label = "with web access" if web else "without web access"
        print(
            f"INSi + status + creation, {label:18}: median {median * 1000:6.1f} ms, "
            f"p90 {p90 * 1000:6.1f} ms  ({median / floor:.0f}x the health floor)"
        )
    print(
        f"INSi look-up by traits alone                : median {statistics.median(lookups) * 1000:6.2f} ms"
    )
    print(f"health call (floor)                          : median {floor * 1000:6.2f} ms")
    print(
        f"embedded service opened in {opened * 1000:.0f} ms (first run makes the demo keys); "
        f"login {login * 1000:.0f} ms"
    )
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
