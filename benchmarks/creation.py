"""Creation round-trip on the embedded service: login, then TD0.2 + TD1.1 per patient.

Floor: the service's health call through the same transport (one request, no work).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from proclient.credentials.software import unlock_demo
from proclient.domain import (
    OID_INS_NIR_TEST,
    Action,
    BirthDate,
    Consent,
    CreationRequest,
    Ins,
    Patient,
    Sex,
    WebAccess,
)
from proclient.embedded_service import embedded_client

PATIENTS = 60


def nir(serial: int) -> str:
    body = f"1800175{serial:06d}"[:13]
    return body + f"{97 - int(body) % 97:02d}"


def request(serial: int, web: bool) -> CreationRequest:
    patient = Patient(
        Ins(nir(serial), OID_INS_NIR_TEST), "BENCH", "Patient", BirthDate("19800101"), Sex.MALE
    )
    return CreationRequest(
        Action.CREATION,
        patient,
        Consent(creation=True),
        web_access=WebAccess(email="bench@exemple.fr") if web else None,
    )


async def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="proclient-bench-"))
    start = time.perf_counter()
    client, pki = embedded_client(directory)
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
    for web in (False, True):
        samples = []
        for i in range(PATIENTS):
            serial = i + (PATIENTS if web else 0)
            t = time.perf_counter()
            await client.status(request(serial, web).patient.ins)
            await client.submit(request(serial, web), str(uuid.uuid4()))
            samples.append(time.perf_counter() - t)
        samples.sort()
        median, p90 = statistics.median(samples), samples[int(len(samples) * 0.9)]
        label = "with web access" if web else "without web access"
        print(
            f"status + creation, {label:18}: median {median * 1000:6.1f} ms, "
            f"p90 {p90 * 1000:6.1f} ms  ({median / floor:.0f}x the health floor)"
        )
    print(f"health call (floor)                   : median {floor * 1000:6.2f} ms")
    print(
        f"embedded service opened in {opened * 1000:.0f} ms (first run makes the demo keys); "
        f"login {login * 1000:.0f} ms"
    )
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
