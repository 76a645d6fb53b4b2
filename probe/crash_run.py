"""The DMP service killed at random while workstations create DMPs: nothing duplicated,
nothing acknowledged lost.

Starts `proclient serve` (a subprocess, the probe's own CA and certificates) on a fresh
SQLite file or PostgreSQL schema, with an INSi register file of ``--people`` fictitious
patients (loaded on the first start; the database keeps it); several client threads, each
from its own loopback address, ask INSi for a patient by card, then create their DMP (one in
three with web access), as the workstation does. When an answer is lost (the connection dies
with the service), the client sends the same request again (the creation under the same
Idempotency-Key) until it gets one. Meanwhile the service is
killed with SIGKILL at random moments, ``--kills`` times, and restarted at once on the same
database. At the end:

- duplicates: patients with more than one DMP in the database, or whose answers named two
  different DMPs;
- lost: creations the client saw acknowledged (201) whose DMP is not in the database under
  that patient's INS, or whose web account is missing;
- inconsistent: creations whose retries ended in a refusal or never got an answer, and DMPs
  in the database for no patient the clients sent;
- initial passwords lost: web-access creations whose only 201 was a replay (the password is
  handed out once), and how many of those the reissue endpoint
  (POST /v1/dmp/web-access/password) recovered;
- the audit journal: `proclient serve audit verify` after the last stop must find it intact
  (its hash chain across every kill, its heads signed by the service's key).

Exit status 1 on a duplicate, a loss, an inconsistency or a journal that does not verify; the
password figures are printed.

    .venv/bin/python probe/crash_run.py --database sqlite --kills 150
    .venv/bin/python probe/crash_run.py --database postgresql --kills 120

Imports nothing from proclient (probe_kit.py); psycopg only to make and read a PostgreSQL
schema.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from probe_kit import (
    OID_TEST,
    Client,
    LoginFailed,
    People,
    Person,
    Pki,
    Service,
    ServiceDatabase,
    password_in,
    write_register,
)

REISSUE_PATH = "/v1/dmp/web-access/password"
RETRY_PAUSE = 0.05
GIVE_UP_AFTER = 120.0  # seconds of retries for one creation before calling it unanswered


@dataclass
class Creation:
    person: Person
    web: bool
    key: str
    lost_answers: int = 0  # transport errors: the answer died with the service
    server_errors: int = 0  # 5xx answers (retried)
    dmp_ids: set[str] = field(default_factory=set)
    fresh: bool = False  # a 201 that was not a replay
    replayed: bool = False
    password_seen: bool = False
    final: str | None = None  # None: answered 201; else the refusal, or "unanswered"

    @property
    def acknowledged(self) -> bool:
        return self.final is None and bool(self.dmp_ids)


class CrashRun:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.people = People(args.seed)
        self.pool: list[Person] = []  # the INSi register's people not used yet
        self.pool_used_up = False
        self.people_lock = threading.Lock()
        self.creations: list[Creation] = []
        self.creations_lock = threading.Lock()
        self.stop = threading.Event()
        self.workdir = Path(tempfile.mkdtemp(prefix="crash-run-"))
        self.restarts: list[float] = []
        self.kills_done = 0
        self.journal: tuple[int, str] = (-1, "not verified")
        self.worker_errors: list[str] = []

    def person(self) -> Person | None:
        """A person of the INSi register not used yet; None once all were."""
        with self.people_lock:
            if not self.pool:
                self.pool_used_up = True
                return None
            return self.pool.pop()

    # --- clients ----------------------------------------------------------------------------

    def login(self, client: Client) -> None:
        deadline = time.monotonic() + GIVE_UP_AFTER
        while True:
            try:
                client.login(self.pro)
                return
            except (httpx.TransportError, LoginFailed):
                if time.monotonic() > deadline:
                    raise
                time.sleep(RETRY_PAUSE * 4)

    def worker(self, index: int) -> None:
        client = Client(self.service.base_url, self.context, f"127.0.10.{index + 1}", timeout=15)
        try:
            self.login(client)
            count = 0
            while not self.stop.is_set():
                person = self.person()
                if person is None:
                    return
                creation = Creation(person, count % self.args.web_every == 0, str(uuid.uuid4()))
                count += 1
                self.complete(client, creation)
                with self.creations_lock:
                    self.creations.append(creation)
        except Exception as error:  # reported with the figures
            self.worker_errors.append(f"client {index}: {type(error).__name__}: {error}")
        finally:
            client.close()

    def look_up(self, client: Client, creation: Creation, deadline: float) -> bool:
        """INSi look-up by card until INSi answers (a 00: the patient is in the register);
        False when it did not in time, or answered otherwise (``creation.final`` says)."""
        while time.monotonic() < deadline:
            try:
                answer = client.look_up(creation.person)
            except httpx.TransportError:
                creation.lost_answers += 1
                time.sleep(RETRY_PAUSE)
                continue
            if answer.status == 401:
                self.login(client)
                continue
            if answer.status >= 500:
                creation.server_errors += 1
                time.sleep(RETRY_PAUSE)
                continue
            code = (answer.json() or {}).get("code") if answer.status == 200 else None
            if code != "00":
                creation.final = f"INSi look-up {answer.brief()}"
                return False
            return True
        creation.final = "unanswered"
        return False

    def complete(self, client: Client, creation: Creation) -> None:
        """Ask INSi, then send the creation until an answer arrives, under the same key every
        time."""
        person = creation.person
        web = person.web() if creation.web else None
        body = person.creation(OID_TEST, web)
        deadline = time.monotonic() + GIVE_UP_AFTER
        if not self.look_up(client, creation, deadline):
            return
        while True:
            if time.monotonic() > deadline:
                creation.final = "unanswered"
                return
            try:
                answer = client.post("/v1/dmp", body, key=creation.key)
            except httpx.TransportError:
                creation.lost_answers += 1
                time.sleep(RETRY_PAUSE)
                continue
            if answer.status == 401:
                self.login(client)
                continue
            if answer.status == 409 and answer.code == "IDEMPOTENCY_IN_PROGRESS":
                time.sleep(RETRY_PAUSE)
                continue
            if answer.status >= 500:
                creation.server_errors += 1
                time.sleep(RETRY_PAUSE)
                continue
            if answer.status != 201:
                creation.final = answer.brief()
                return
            document = answer.json()
            if isinstance(document, dict) and document.get("dmp_id"):
                creation.dmp_ids.add(document["dmp_id"])
            if answer.headers.get("idempotent-replayed") == "true":
                creation.replayed = True
            else:
                creation.fresh = True
            if password_in(document):
                creation.password_seen = True
            return

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> int:
        args = self.args
        pki = Pki.create(self.workdir / "pki", count=1)
        self.pro = pki.professionals[0]
        self.context = pki.client_context()
        self.db = ServiceDatabase.fresh(args.database, self.workdir, args.postgres_url)
        root = Path(args.service_root).resolve() if args.service_root else None
        self.pool = self.people.pool(args.people or 300 + 200 * args.kills)
        register = write_register(self.workdir / "insi-register.json", self.pool, OID_TEST)
        self.service = Service(self.workdir / "home", self.db.url, "test", pki, register=register)
        if root is not None:
            self.service.root = root
        started = time.monotonic()
        try:
            self.service.start(timeout=300)  # loading the register comes first
            self.service.register = None  # the database keeps it: restarts load nothing
            workers = [
                threading.Thread(target=self.worker, args=(index,), daemon=True)
                for index in range(args.clients)
            ]
            for thread in workers:
                thread.start()
            self.wait_for_creations(args.clients)
            for _ in range(args.kills):
                time.sleep(self.rng.uniform(args.min_gap, args.max_gap))
                self.service.kill9()
                self.kills_done += 1
                restart = time.monotonic()
                self.service.start()
                self.restarts.append(time.monotonic() - restart)
            time.sleep(args.min_gap)
            self.stop.set()
            for thread in workers:
                thread.join(timeout=GIVE_UP_AFTER + 30)
            recovered, reissue_state = self.recover_passwords()
        finally:
            self.service.stop()
        self.journal = self.service.audit_verify()  # after the kills and the last stop
        return self.figures(time.monotonic() - started, recovered, reissue_state)

    def wait_for_creations(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.creations) < count:
            time.sleep(0.05)

    def recover_passwords(self) -> tuple[int, str]:
        """Ask the reissue endpoint for each password the clients never saw."""
        lost = [c for c in self.creations if c.web and c.acknowledged and not c.password_seen]
        if not lost:
            return 0, ""
        client = Client(self.service.base_url, self.context, "127.0.10.200")
        recovered = 0
        state = ""
        try:
            self.login(client)
            for creation in lost:
                ins = {"value": creation.person.nir, "oid": OID_TEST}
                answer = client.post(REISSUE_PATH, {"ins": ins}, key=str(uuid.uuid4()))
                if (answer.status == 404 and answer.code == "NOT_FOUND") or answer.status == 405:
                    return 0, " (reissue endpoint absent)"
                if 200 <= answer.status < 300 and password_in(answer.json()):
                    recovered += 1
                else:
                    state = f" (last refusal {answer.brief()})"
        finally:
            client.close()
        return recovered, state

    # --- what the database holds ----------------------------------------------------------------

    def figures(self, seconds: float, recovered: int, reissue_state: str) -> int:
        args = self.args
        rows = self.db.query("SELECT dmp_id, ins_value, ins_oid FROM dmps")
        web_rows = {row[0] for row in self.db.query("SELECT dmp_id FROM web_accounts")}
        by_patient = Counter((value, oid) for _dmp, value, oid in rows)
        where = {dmp: (value, oid) for dmp, value, oid in rows}
        creations = self.creations
        sent = {(c.person.nir, OID_TEST) for c in creations}
        acknowledged = [c for c in creations if c.acknowledged]
        duplicates = sum(count - 1 for count in by_patient.values() if count > 1) + sum(
            1 for c in creations if len(c.dmp_ids) > 1
        )
        lost = [
            c
            for c in acknowledged
            if any(where.get(dmp) != (c.person.nir, OID_TEST) for dmp in c.dmp_ids)
        ]
        lost_web = [c for c in acknowledged if c.web and not (c.dmp_ids & web_rows)]
        phantom = [key for key in by_patient if key not in sent]
        refused = Counter(c.final for c in creations if c.final is not None)
        lost_passwords = [c for c in acknowledged if c.web and not c.password_seen]
        self.db_description = self.db.describe()
        if not args.keep:
            with suppress(Exception):
                self.db.drop()
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            print(f"kept: {self.workdir}")

        restarts = self.restarts or [0.0]
        print(
            f"crash run: {self.db_description}, {self.kills_done}/{args.kills} kills (SIGKILL), "
            f"{args.clients} clients, {seconds:.0f} s"
        )
        print(
            f"creations: {len(creations)} sent, {len(acknowledged)} acknowledged "
            f"({sum(c.fresh for c in acknowledged)} first answers, "
            f"{sum(c.replayed and not c.fresh for c in acknowledged)} known only by a replay), "
            f"{sum(c.web for c in creations)} with web access"
        )
        print(
            f"creations cut by a kill: {sum(c.lost_answers > 0 for c in creations)}, resent "
            f"under the same key ({sum(c.lost_answers for c in creations)} attempts without an "
            f"answer); 5xx answers: {sum(c.server_errors for c in creations)}"
        )
        print(
            f"restart after a kill: median {statistics.median(restarts):.2f} s, "
            f"max {max(restarts):.2f} s"
        )
        print(f"DMPs in the database: {len(rows)}")
        print(f"duplicates: {duplicates}")
        print(f"lost acknowledged creations: {len(lost)}")
        print(f"lost web accounts: {len(lost_web)}")
        print(
            f"inconsistent: {sum(refused.values())} refused or unanswered"
            f"{' ' + str(dict(refused)) if refused else ''}, {len(phantom)} DMPs for no patient sent"
        )
        print(
            f"initial passwords lost: {len(lost_passwords)}; recovered by reissue: "
            f"{recovered}{reissue_state}"
        )
        print(
            f"INSi register: {len(sent)} people used of {len(sent) + len(self.pool)}"
            + (
                " (all used: the clients stopped early; raise --people)"
                if self.pool_used_up
                else ""
            )
        )
        journal_code, journal_sentence = self.journal
        print(f"audit journal (exit {journal_code}): {journal_sentence}")
        for error in self.worker_errors:
            print(f"client error: {error}")
        failed = bool(
            journal_code != 0
            or duplicates
            or lost
            or lost_web
            or refused
            or phantom
            or self.worker_errors
            or self.kills_done < args.kills
            or not acknowledged
        )
        print("RESULT: " + ("FAIL" if failed else "OK"))
        return 1 if failed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the service (20)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (4)")
    parser.add_argument(
        "--web-every", type=int, default=3, help="one creation in N asks web access"
    )
    parser.add_argument(
        "--people",
        type=int,
        help="patients in the INSi register file (default 300 + 200 per kill)",
    )
    parser.add_argument("--min-gap", type=float, default=0.2, help="seconds, after a restart")
    parser.add_argument("--max-gap", type=float, default=1.5, help="seconds, after a restart")
    parser.add_argument("--postgres-url", help="admin URL (default: PROCLIENT_TEST_POSTGRES_URL)")
    parser.add_argument("--service-root", help="run the proclient of this checkout")
    parser.add_argument("--seed", type=int, help="seed of the patients and the kill moments")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and database")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    try:
        return CrashRun(parse_args(argv)).run()
    except Exception as error:  # the run itself could not go on
        print(f"crash run could not go on: {type(error).__name__}: {str(error)[:600]}")
        print("RESULT: FAIL")
        return 1


if __name__ == "__main__":
    sys.exit(main())
