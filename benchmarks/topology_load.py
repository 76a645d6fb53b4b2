"""The load of benchmarks/topology.py: N workstations creating DMPs through the balancer, each
creation preceded by its INSi look-up, as a counter does; and the checks of what they were
told against what the database holds.

Each workstation is a :class:`DmpServiceClient` (the real one, its retries with the same
Idempotency-Key included) with its own source address (127.0.1.x, as counters each have
theirs): the balancer tells the hosts that address (X-Forwarded-For), so the per-address
limits count per workstation. A call that still fails after the client's own retries is what
the professional would see (« nouvelle tentative… »): it is counted, and the workstation asks
again with the same Idempotency-Key, as its outbox would. One creation in ``web_every`` asks
for online access: when its answer comes back as a replay (the first one, with the password,
was lost), the workstation asks the service to reissue the password (a new key each time) as
the TUI does by itself.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# The bench patients of server_throughput.py (this script's folder is on sys.path).
from server_throughput import card, nir, patient  # noqa: E402

from proclient.core.domain import Action, Consent, WebAccess
from proclient.core.records import CreationRequest
from proclient.credentials.software import unlock_demo
from proclient.server.demo import ensure_demo_pki
from proclient.service.client import DmpServiceClient
from proclient.service.errors import ServiceError

PAUSE = 0.2  # seconds a workstation waits before asking again after a failure it saw
REISSUE_TRIES = 5
_RENEW = frozenset({"AUTH_REQUIRED", "AUTH_SESSION_EXPIRED"})


def workstation_address(index: int) -> str:
    """The source address of workstation ``index`` (0-based): 127.0.1.1, 127.0.1.2, …"""
    return f"127.0.1.{index + 1}"


@dataclass
class Creation:
    station: int
    serial: int
    key: str
    started: float
    ended: float = 0.0
    dmp_id: str | None = None
    web: bool = False
    password: bool = False  # the initial password reached the workstation (first answer)
    reissued: bool = False  # …or a reissue gave a new one
    failures: int = 0  # calls that failed after the client's own retries
    refused: str | None = None  # the code of a 4xx refusal that ended it


@dataclass
class Tally:
    """What the workstations were told, for one run."""

    creations: list[Creation] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)  # (when, code)
    dmp_ids: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    refusals: list[str] = field(default_factory=list)  # codes of 4xx refusals (anomalies)
    client_retries: int = 0  # the client's own quiet retries (counted from its log)

    def done(self) -> list[Creation]:
        return [c for c in self.creations if c.dmp_id is not None]


class Serials:
    """Fresh patients of the INSi register, handed out once each across runs."""

    def __init__(self, start: int, stop: int) -> None:
        self.next, self.stop = start, stop

    def take(self) -> int:
        if self.next >= self.stop:
            raise RuntimeError("no patient left in the INSi register: raise --patients")
        self.next += 1
        return self.next - 1


def _request(serial: int, web: bool) -> CreationRequest:
    access = WebAccess(email=f"bench{serial}@example.org") if web else None
    return CreationRequest(
        Action.CREATION, patient(serial), Consent(creation=True), web_access=access
    )


class Workstation:
    def __init__(self, index: int, url: str, ca: Path, pki_dir: Path) -> None:
        context = ssl.create_default_context(cafile=str(ca))
        transport = httpx.AsyncHTTPTransport(
            verify=context, local_address=workstation_address(index)
        )
        self.index = index
        self.client = DmpServiceClient(url, transport=transport)
        self.credential = unlock_demo(ensure_demo_pki(pki_dir).default)

    async def login(self) -> None:
        for _attempt in range(20):
            try:
                await self.client.login(self.credential)
                return
            except ServiceError:
                await asyncio.sleep(0.5)
        await self.client.login(self.credential)

    async def _until_done(self, tally: Tally, creation: Creation, call):
        """``call`` until it passes; a failure the client gave up on is what the professional
        saw: counted, then asked again (same Idempotency-Key). A refusal (4xx but 429) is
        not asked again: it ends the creation (an anomaly, counted)."""
        while True:
            try:
                return await call()
            except ServiceError as error:
                status = error.status
                if status is not None and 400 <= status < 500 and status != 429:
                    if error.code not in _RENEW:
                        tally.refusals.append(error.code)
                        creation.refused = error.code
                        raise
                creation.failures += 1
                tally.failures.append((time.monotonic(), error.code))
                if error.code in _RENEW:
                    await self.login()
                await asyncio.sleep(PAUSE)

    async def create(self, serial: int, web: bool, tally: Tally) -> Creation:
        creation = Creation(self.index, serial, str(uuid.uuid4()), time.monotonic(), web=web)
        tally.creations.append(creation)
        await self._until_done(tally, creation, lambda: self.client.insi_by_card(card(serial)))
        request = _request(serial, web)
        result = await self._until_done(
            tally, creation, lambda: self.client.submit(request, creation.key)
        )
        creation.dmp_id = result.dmp_id
        creation.ended = time.monotonic()
        tally.dmp_ids[serial].add(result.dmp_id)
        if web:
            creation.password = bool(result.web and result.web.initial_password)
            if not creation.password:
                await self._reissue(serial, creation, tally)
        return creation

    async def _reissue(self, serial: int, creation: Creation, tally: Tally) -> None:
        """The password's answer was lost: a new one, as the workstation asks by itself."""
        ins = patient(serial).ins
        for _attempt in range(REISSUE_TRIES):
            key = str(uuid.uuid4())
            credentials = await self._until_done(
                tally, creation, lambda k=key: self.client.reissue_password(ins, k)
            )
            if credentials.initial_password:
                creation.reissued = True
                return

    async def loop(self, serials: Serials, tally: Tally, stop: asyncio.Event, web_every: int):
        while not stop.is_set():
            serial = serials.take()
            try:
                await self.create(serial, web_every > 0 and serial % web_every == 0, tally)
            except ServiceError:
                pass  # counted in tally.refusals

    async def close(self) -> None:
        await self.client.aclose()


async def open_workstations(count: int, url: str, ca: Path, pki_dir: Path) -> list[Workstation]:
    stations = [Workstation(i, url, ca, pki_dir) for i in range(count)]
    await asyncio.gather(*(s.login() for s in stations))
    return stations


def recovery(tally: Tally, since: float, stations: int) -> float | None:
    """Seconds from ``since`` (a kill) until every workstation had a creation that started
    after it and succeeded: the time until all clients succeed again; None if one never did."""
    firsts: dict[int, float] = {}
    for creation in tally.creations:
        if creation.dmp_id is None or creation.started < since:
            continue
        firsts[creation.station] = min(firsts.get(creation.station, float("inf")), creation.ended)
    if len(firsts) < stations:
        return None
    return max(firsts.values()) - since


@dataclass
class Check:
    """The database against what the workstations were told."""

    acknowledged: int = 0
    lost: int = 0  # acknowledged creations missing from the database
    duplicates: int = 0  # patients with two DMPs, or a workstation told two dmp_ids
    orphans: int = 0  # DMPs of this run's patients no workstation was told of
    abandoned: int = 0  # creations the run cut short, unanswered (not counted as lost)
    passwords_lost: int = 0  # online access asked, no password reached the patient
    passwords_reissued: int = 0

    def ok(self) -> bool:
        return not (self.lost or self.duplicates or self.orphans or self.passwords_lost)


def check(database_url: str, tally: Tally) -> Check:
    import psycopg

    result = Check()
    done = tally.done()
    result.acknowledged = len(done)
    values = {nir(c.serial): c for c in tally.creations}
    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT ins_value, dmp_id FROM dmps WHERE ins_value = ANY(%s)", (list(values),)
        ).fetchall()
        dups = conn.execute(
            "SELECT count(*) FROM (SELECT ins_value FROM dmps GROUP BY ins_value, ins_oid "
            "HAVING count(*) > 1) AS d"
        ).fetchone()[0]
    found: dict[str, list[str]] = defaultdict(list)
    for value, dmp_id in rows:
        found[value].append(dmp_id)
    # Patients with two DMPs (the whole table), and patients a workstation was told two
    # dmp_ids for.
    result.duplicates = dups + sum(1 for ids in tally.dmp_ids.values() if len(ids) > 1)
    for creation in done:
        if creation.dmp_id not in found.get(nir(creation.serial), []):
            result.lost += 1
    told = {c.dmp_id for c in done}
    # A creation cut short (the run ended before it was answered) may or may not be there.
    unknown = {nir(c.serial) for c in tally.creations if c.dmp_id is None and not c.refused}
    result.abandoned = len(unknown)
    result.orphans = sum(
        1 for value, ids in found.items() if value not in unknown for i in ids if i not in told
    )
    for creation in done:
        if creation.web and not (creation.password or creation.reissued):
            result.passwords_lost += 1
        if creation.reissued:
            result.passwords_reissued += 1
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
