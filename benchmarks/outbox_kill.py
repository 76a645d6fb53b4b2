"""Kill-at-random between capture and confirmed creation (issue 13): the workstation process
killed with SIGKILL at a random moment while it records creations offline and sends them,
then replayed to the end: 0 duplicate DMPs, 0 lost captures, 0 entries left.

One `proclient serve` (HTTPS with the demo test CA, a temporary home, a SQLite file; or with
``--database postgresql`` a schema of its own, made for the run and dropped after it, in the
PostgreSQL of PROCLIENT_TEST_POSTGRES_URL: scripts/services/postgres.sh sets it) on
127.0.0.1, with an INSi register of generated bench patients (serve_kit.py). Per iteration,
1 to 3 new patients (never one of another iteration) and a forked child process, as the
workstation would do it:

1. unlocks the demo pharmacist's software credential;
2. records each capture (held identity as read from a Carte Vitale, with the NIR: INSi is
   asked by card; identity card seen; consent given) with ``OutboxController.record`` in the
   iteration's outbox folder, and writes « recorded » to a pipe once ``record`` returned (a
   confirmed capture: the professional was told « enregistrée »);
3. logs in (each login from its own 127.x address: the service allows 30 challenges a
   minute per address) and runs ``OutboxController.send`` with ``receipt_filer`` saving the
   accusés in the run's receipts folder.

The child also writes to the pipe after each step the outbox and the client complete (put,
INSi answered, marked SENDING, TD1.1 answered, accusé saved, done) so that the phase of the
kill can be told: it is the last step heard of. The parent kills the child at a random
moment: for half the iterations uniform in [0, T_k] after the fork, T_k being the median
duration of unkilled children recording k captures (measured first); for the other half in
a phase chosen uniformly, uniform within its median length after the step that opens it
was heard (short phases get kills too). Then it replays in a new child, unkilled, until the
outbox is empty (a run stopped by the service, e.g. IDEMPOTENCY_IN_PROGRESS, is run again).

Checked per iteration and in total, reading the service's database and the folders:
every confirmed capture has exactly one DMP (by the patient's INS); no entry left in the
outbox, none held (a DMPFound hold would be a second creation attempt); exactly one accusé
file per DMP; a capture whose ``record`` never returned has no DMP, or went through (counted
apart). Stray temporary files left by a killed atomic write are counted too. Exit 1 on a
duplicate, a loss or a leftover.

    .venv/bin/python benchmarks/outbox_kill.py [--iterations 200] [--seed 13]
        [--database sqlite|postgresql]

Every process started (the service, the children) is stopped, the temporary folder removed
and the PostgreSQL schema dropped in a ``finally``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import select
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# This folder (creation.py, serve_kit.py), and the proclient next to it before the venv's: a
# worktree's benchmark measures the worktree's code.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from creation import given_name, nir  # noqa: E402
from serve_kit import (  # noqa: E402
    demo_ca,
    free_port,
    serve_command,
    spawn_service,
    stop_service,
    wait_healthy,
    write_register,
)

HOST = "127.0.0.1"
STEPS = frozenset(
    {"unlocked", "put", "recorded", "recorded-all", "login", "insi", "sending", "created"}
    | {"accuse", "done"}
)
MAX_PATIENTS = 3
CALIBRATION_RUNS = 3  # unkilled children per capture count, to measure T_k
REPLAY_ROUNDS = 20  # replays of one iteration before calling its entries left
RECEIPT = re.compile(r"^accuse-\d{8}-\d{6}-(?P<dmp>.+)\.pdf$")

# The phase of a kill: the last step the child was heard of (see the module's docstring).
PHASES = {
    None: "before the credential was unlocked",
    "unlocked": "unlocked, capture not yet written",
    "put": "entry written, record() not returned",
    "recorded": "capture confirmed, more to record",
    "recorded-all": "all captured, before login",
    "login": "logged in, before INSi",
    "insi": "INSi answered, before SENDING",
    "sending": "marked SENDING, TD1.1 in flight",
    "created": "service answered 201, before the accusé",
    "accuse": "accusé saved, before done()",
    "done": "entry done, next one or end of run",
    "finished": "not killed (finished before the kill)",
}


# --- the child's side ---------------------------------------------------------------------------


class Pipe:
    """One line per event, written at once (each under PIPE_BUF: never interleaved)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def say(self, *words: str) -> None:
        os.write(self.fd, (" ".join(words) + "\n").encode())


def held_identity(serial: int):
    """Bench patient ``serial`` as read from a Carte Vitale (their own NIR: INSi by card)."""
    from proclient.core.domain import BirthDate, IdentitySource, Sex
    from proclient.core.identity import HeldIdentity

    return HeldIdentity(
        last_name="PATIENT",
        first_name=given_name(serial),
        birth_date=BirthDate("19800101"),
        sex=Sex.MALE,
        nir=nir(serial),
        source=IdentitySource.CARD,
        rank=1,
    )


def traced_outbox(directory: Path, config: Path, pipe: Pipe):
    from proclient.outbox.keys import OutboxKey
    from proclient.outbox.port import EntryState
    from proclient.outbox.store import EncryptedOutbox

    class TracedOutbox(EncryptedOutbox):
        def put(self, entry):
            entry_id = super().put(entry)
            pipe.say("put", entry_id)
            return entry_id

        def mark(self, entry_id, state, reason=""):
            super().mark(entry_id, state, reason)
            if state is EntryState.SENDING:
                pipe.say("sending", entry_id)

        def done(self, entry_id):
            super().done(entry_id)
            pipe.say("done", entry_id)

    return TracedOutbox(directory, OutboxKey(config, use_keyring=False))


def traced_client(url: str, ca: Path, address: str, pipe: Pipe):
    import ssl

    import httpx

    from proclient.service.client import DmpServiceClient

    class TracedClient(DmpServiceClient):
        async def insi_by_card(self, query):
            answer = await super().insi_by_card(query)
            pipe.say("insi")
            return answer

        async def submit(self, request, idempotency_key, proof=None):
            result = await super().submit(request, idempotency_key, proof)
            pipe.say("created", result.dmp_id)
            return result

    context = ssl.create_default_context(cafile=str(ca))
    transport = httpx.AsyncHTTPTransport(verify=context, local_address=address, retries=0)
    return TracedClient(url, transport=transport)


async def workstation(job: dict, pipe: Pipe) -> dict:
    """Record ``job["serials"]`` (maybe none: a replay), then log in and send what the outbox
    holds. Returns the send report (entry ids and codes only)."""
    from proclient.controllers.outbox import OutboxController, receipt_filer
    from proclient.controllers.paper import PaperController
    from proclient.core.domain import Consent
    from proclient.core.identity import Document
    from proclient.credentials.software import unlock_demo

    credential = unlock_demo(job["professional"])
    pipe.say("unlocked")
    outbox = traced_outbox(Path(job["outbox"]), Path(job["config"]), pipe)
    directory = Path(job["outbox"])
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    controller = OutboxController(outbox, lock_path=directory / ".send.lock")
    for serial in job["serials"]:
        entry_id = controller.record(
            held_identity(serial), Document.ID_CARD, Consent(creation=True), None, credential
        )
        pipe.say("recorded", str(serial), entry_id)
    if job["serials"]:
        pipe.say("recorded-all")
    if not outbox.list():
        return {"created": [], "held": [], "tampered": [], "stopped": None}
    client = traced_client(job["url"], Path(job["ca"]), job["address"], pipe)
    try:
        await client.login(credential)
        pipe.say("login")
        professional = credential.professional
        paper = PaperController(Path(job["receipts"]), "a4", None, False, True)
        filer = receipt_filer(paper, professional, demo=True)

        async def on_created(entry_id, request, result, capture) -> None:
            await filer(entry_id, request, result, capture)
            pipe.say("accuse", entry_id)

        report = await controller.send(client, professional, on_created)
    finally:
        client.forget_session()
        await client.aclose()
    return {
        "created": [[entry_id, result.dmp_id] for entry_id, result in report.created],
        "held": [list(item) for item in report.held],
        "tampered": list(report.tampered),
        "stopped": report.stopped.code if report.stopped is not None else None,
    }


def child(job: dict, fd: int) -> None:
    """The forked child's whole life: never returns."""
    status = 0
    pipe = Pipe(fd)
    try:
        report = asyncio.run(workstation(job, pipe))
        pipe.say("report", json.dumps(report, separators=(",", ":")))
        pipe.say("finished")
    except BaseException as error:  # noqa: BLE001 - told to the parent, which decides
        code = getattr(error, "code", "")
        pipe.say("error", type(error).__name__, str(code))
        status = 3
    finally:
        os._exit(status)


# --- the parent's side --------------------------------------------------------------------------


@dataclass
class Heard:
    """What the parent heard from one child, and how it ended."""

    events: list[list[str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    """When each event was heard, in seconds after the fork."""
    killed: bool = False
    seconds: float = 0.0
    status: int = 0

    @property
    def last(self) -> str | None:
        steps = [e[0] for e in self.events if e[0] not in ("report", "error")]
        return steps[-1] if steps else None

    @property
    def report(self) -> dict | None:
        for event in self.events:
            if event[0] == "report":
                return json.loads(event[1])
        return None

    @property
    def error(self) -> str | None:
        for event in self.events:
            if event[0] == "error":
                return " ".join(event[1:])
        return None

    def confirmed(self) -> set[int]:
        return {int(e[1]) for e in self.events if e[0] == "recorded"}

    def phase(self, serials: list[int]) -> str:
        last = self.last
        if last == "recorded" and len(self.confirmed()) == len(serials):
            return "recorded-all"
        return last if last in PHASES else str(last)


def run_child(job: dict, kill_after: float | None, anchor: int = 0) -> Heard:
    """Fork a child for ``job``; SIGKILL it ``kill_after`` seconds after the fork, or with
    ``anchor`` n > 0, after the child's n-th step was heard (None: let it finish). The parent
    has no thread and no event loop here (fork-safe)."""
    import threading

    if threading.active_count() != 1:
        raise RuntimeError("a thread is running: forking now could leave a lock held")
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        child(job, write_fd)
    os.close(write_fd)
    heard, buffer, eof = Heard(), b"", False
    lines: list[tuple[float, str]] = []
    deadline = None if kill_after is None or anchor else start + kill_after
    steps = 0
    try:
        while not eof:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _w, _x = select.select([read_fd], [], [], timeout)
            if not ready:  # the kill's moment
                os.kill(pid, signal.SIGKILL)
                heard.killed = True
                deadline = None  # read what was written before the kill, up to EOF
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                eof = True
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            now = time.monotonic() - start
            lines += [(now, line.decode()) for line in complete if line]
            for line in complete:
                if line.split(b" ", 1)[0].decode() in STEPS:
                    steps += 1
                    if kill_after is not None and anchor and steps == anchor:
                        deadline = time.monotonic() + kill_after
    finally:
        os.close(read_fd)
        if not eof:  # an exception in the parent: never leave the child behind
            os.kill(pid, signal.SIGKILL)
        _pid, status = os.waitpid(pid, 0)
    heard.seconds = time.monotonic() - start
    heard.status = os.waitstatus_to_exitcode(status)
    if heard.status == -signal.SIGKILL:
        heard.killed = True
    heard.events = [line.split(" ", 1 if line.startswith("report ") else 8) for _t, line in lines]
    heard.times = [t for t, _line in lines]
    if heard.killed and heard.last == "finished":
        heard.killed = False  # the kill came after the end: the child had nothing left to do
    return heard


@dataclass
class Totals:
    iterations: int = 0
    patients: int = 0
    confirmed: int = 0
    unconfirmed_through: int = 0  # record() never returned, the creation still made
    unconfirmed_none: int = 0  # record() never returned, nothing made
    dmps: int = 0
    duplicates: int = 0  # more than one DMP for a patient, or a DMPFound hold
    lost: int = 0  # a confirmed capture without its DMP
    left: int = 0  # entries still in an outbox after the replay
    held: int = 0
    accuses: int = 0
    accuse_duplicates: int = 0  # a DMP with two accusé files or more
    accuse_missing: int = 0  # a DMP made without its accusé
    stray_tmp_outbox: int = 0  # temporary files of a killed atomic write, outbox folder
    stray_tmp_receipts: int = 0  # same, receipts folder (a partial accusé PDF)
    replays: int = 0  # replay children run
    replay_reruns: int = 0  # replays run again (the service said to wait, or an error)
    phases: Counter = field(default_factory=Counter)
    replay_stops: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.duplicates
            or self.lost
            or self.left
            or self.held
            or self.accuse_duplicates
            or self.accuse_missing
        )


class KillRun:
    """The service, the folders, and the iterations (see the module's docstring)."""

    def __init__(
        self,
        workdir: Path,
        iterations: int,
        seed: int,
        quiet: bool = False,
        backend: str = "sqlite",
    ) -> None:
        self.workdir = workdir
        self.backend = backend
        self.schema: str | None = None  # PostgreSQL: the run's own schema
        self.admin_url = ""
        self.iterations = iterations
        self.rng = random.Random(seed)
        self.quiet = quiet
        self.seed = seed
        self.home = workdir / "service-home"
        self.config = workdir / "workstation-config"
        self.receipts = workdir / "receipts"
        self.process = None
        self.next_serial = 0
        self.next_address = 0
        self.durations: dict[int, float] = {}
        self.bounds: dict[int, list[float]] = {}
        self.totals = Totals()

    # --- the service ------------------------------------------------------------------------

    def start(self) -> None:
        from proclient.outbox.keys import OutboxKey
        from proclient.server.demo import ensure_demo_pki

        self.home.mkdir(parents=True)
        # Enough patients for the calibration and every iteration at its largest.
        needed = (self.iterations + CALIBRATION_RUNS * MAX_PATIENTS) * MAX_PATIENTS + 10
        register = write_register(self.home / "register.json", range(needed))
        self.port = free_port(HOST)
        self.url = f"https://{HOST}:{self.port}"
        command = serve_command(self.home, HOST, self.port, register)
        self.database: Path | str = self.home / "service.sqlite"
        if self.backend == "postgresql":
            self.database = self.postgres_schema()
            command[command.index("--database") + 1] = self.database
        self.process = spawn_service(self.home, command)
        self.ca = demo_ca(self.home)
        wait_healthy(self.url, self.ca, self.process)
        self.professional = ensure_demo_pki(self.ca.parent).default
        OutboxKey(self.config, use_keyring=False).load_or_create()  # before any fork
        # The child's work imports these: import them once here, before forking.
        import proclient.controllers.outbox  # noqa: F401
        import proclient.controllers.paper  # noqa: F401
        import proclient.credentials.software  # noqa: F401
        import proclient.receipts.pdf  # noqa: F401
        import proclient.receipts.store  # noqa: F401
        import proclient.service.client  # noqa: F401

    def postgres_schema(self) -> str:
        """A schema of its own in PROCLIENT_TEST_POSTGRES_URL's database (dropped by
        :meth:`stop`), and the service's URL reaching it through search_path."""
        import psycopg

        self.admin_url = os.environ.get("PROCLIENT_TEST_POSTGRES_URL", "")
        if not self.admin_url:
            raise SystemExit(
                "--database postgresql: PROCLIENT_TEST_POSTGRES_URL is not set "
                "(source scripts/services/postgres.sh)"
            )
        schema = f"outbox_kill_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        self.schema = schema
        separator = "&" if "?" in self.admin_url else "?"
        return f"{self.admin_url}{separator}options=-csearch_path%3D{schema}"

    def stop(self) -> None:
        if self.process is not None:
            stop_service(self.process)
            self.process = None
        if self.schema is not None:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {self.schema} CASCADE")
            self.schema = None

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """``sql`` (``?`` placeholders) on the service's database, read-only, in a connection
        opened and closed here: none is left open across a fork."""
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(str(self.database), autocommit=True) as conn:
                return conn.execute(sql.replace("?", "%s"), params).fetchall()
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    # --- jobs -------------------------------------------------------------------------------

    def address(self) -> str:
        n = self.next_address
        self.next_address += 1
        return f"127.1.{n // 250 % 250}.{n % 250 + 1}"

    def patients(self, k: int) -> list[int]:
        serials = list(range(self.next_serial, self.next_serial + k))
        self.next_serial += k
        return serials

    def job(self, name: str, serials: list[int]) -> dict:
        return {
            "outbox": str(self.workdir / "outboxes" / name),
            "config": str(self.config),
            "receipts": str(self.receipts),
            "url": self.url,
            "ca": str(self.ca),
            "address": self.address(),
            "professional": self.professional,
            "serials": serials,
        }

    def calibrate(self) -> None:
        """T_k: the median duration of unkilled children recording and sending k captures,
        and the median moment of each of their steps (the phases' bounds)."""
        for k in range(1, MAX_PATIENTS + 1):
            samples, timelines = [], []
            for run in range(CALIBRATION_RUNS):
                serials = self.patients(k)
                heard = run_child(self.job(f"calibration-{k}-{run}", serials), None)
                if heard.last != "finished" or heard.report is None or heard.report["held"]:
                    raise RuntimeError(f"an unkilled child failed: {heard.events[-3:]}")
                samples.append(heard.seconds)
                timelines.append(
                    [t for t, e in zip(heard.times, heard.events, strict=True) if e[0] in STEPS]
                )
            self.durations[k] = statistics.median(samples)
            bounds = [statistics.median(column) for column in zip(*timelines, strict=True)]
            self.bounds[k] = [0.0, *bounds, self.durations[k]]

    def kill_moment(self, k: int) -> tuple[float, int]:
        """(delay, anchor) for run_child. Half the kills uniform in [0, T_k] after the fork;
        the other half in one of the child's phases chosen uniformly: after its step that
        opens the phase is heard, uniform within the phase's median length (so that short
        phases, such as between the accusé and done(), get their share of kills too, whatever
        the jitter of the steps before)."""
        if self.rng.random() < 0.5:
            return self.rng.uniform(0, self.durations[k]), 0
        bounds = self.bounds[k]
        i = self.rng.randrange(len(bounds) - 1)
        return self.rng.uniform(0, bounds[i + 1] - bounds[i]), i

    # --- one iteration ----------------------------------------------------------------------

    def replay(self, name: str) -> list[dict]:
        """Replay children, unkilled, until the outbox is empty or a run neither stopped nor
        failed (what is left then is left for good)."""
        from proclient.outbox.keys import OutboxKey
        from proclient.outbox.store import EncryptedOutbox

        reports = []
        outbox = EncryptedOutbox(
            self.workdir / "outboxes" / name, OutboxKey(self.config, use_keyring=False)
        )
        for attempt in range(REPLAY_ROUNDS):
            if not outbox.list():
                break
            heard = run_child(self.job(name, []), None)
            self.totals.replays += 1
            report = heard.report
            if report is not None:
                reports.append(report)
            reason = heard.error or (report or {}).get("stopped")
            if not reason:
                break
            self.totals.replay_stops[reason] += 1
            self.totals.replay_reruns += 1
            time.sleep(0.2 * (attempt + 1))
        return reports

    def iteration(self, number: int) -> None:
        totals = self.totals
        k = self.rng.randint(1, MAX_PATIENTS)
        serials = self.patients(k)
        name = f"iteration-{number:04d}"
        kill_after, anchor = self.kill_moment(k)
        heard = run_child(self.job(name, serials), kill_after, anchor)
        phase = heard.phase(serials) if heard.killed else "finished"
        totals.phases[phase] += 1
        reports = self.replay(name)
        self.check(name, serials, heard, reports)
        totals.iterations += 1
        if not self.quiet and totals.iterations % 25 == 0:
            print(f"  {totals.iterations} iterations…", flush=True)

    # --- checks -----------------------------------------------------------------------------

    def dmps_of(self, serials: list[int]) -> dict[int, list[str]]:
        if not serials:
            return {}
        values = {nir(serial): serial for serial in serials}
        marks = ", ".join("?" for _ in values)
        found: dict[int, list[str]] = {serial: [] for serial in serials}
        for dmp_id, value in self.rows(
            f"SELECT dmp_id, ins_value FROM dmps WHERE ins_value IN ({marks})",  # noqa: S608
            tuple(values),
        ):
            found[values[value]].append(dmp_id)
        return found

    def accuse_files(self) -> Counter:
        found: Counter = Counter()
        for path in self.receipts.glob("accuse-*.pdf"):
            match = RECEIPT.match(path.name)
            if match:
                found[match["dmp"]] += 1
        return found

    def check(self, name: str, serials: list[int], heard: Heard, reports: list[dict]) -> None:
        from proclient.outbox.keys import OutboxKey
        from proclient.outbox.store import SUFFIX, EncryptedOutbox

        totals = self.totals
        folder = self.workdir / "outboxes" / name

        def fail(what: str) -> None:
            totals.failures.append(f"{name} ({heard.phase(serials)}): {what}")

        confirmed = heard.confirmed()
        dmps = self.dmps_of(serials)
        files = self.accuse_files()
        totals.patients += len(serials)
        totals.confirmed += len(confirmed)
        for serial in serials:
            made = dmps[serial]
            totals.dmps += len(made)
            if len(made) > 1:
                totals.duplicates += len(made) - 1
                fail(f"patient {serial}: {len(made)} DMPs")
            if serial in confirmed:
                if not made:
                    totals.lost += 1
                    fail(f"patient {serial}: confirmed capture without a DMP")
            elif made:
                totals.unconfirmed_through += 1
            else:
                totals.unconfirmed_none += 1
            for dmp_id in made:
                count = files.get(dmp_id, 0)
                totals.accuses += count
                if count > 1:
                    totals.accuse_duplicates += count - 1
                    fail(f"DMP {dmp_id}: {count} accusé files")
                elif count == 0:
                    totals.accuse_missing += 1
                    fail(f"DMP {dmp_id}: no accusé file")
        left = EncryptedOutbox(folder, OutboxKey(self.config, use_keyring=False)).list()
        if left:
            totals.left += len(left)
            fail(
                f"{len(left)} entries left: "
                + ", ".join(f"{s.state.value}/{s.reason}" for s in left)
            )
        for report in reports:
            for entry_id, reason in report["held"]:
                totals.held += 1
                if reason == "DMPFound":
                    totals.duplicates += 1
                fail(f"entry {entry_id} held ({reason})")
        if folder.is_dir():
            totals.stray_tmp_outbox += sum(
                1 for p in folder.iterdir() if p.name.endswith(".tmp") and SUFFIX in p.name
            )

    def finish(self) -> None:
        totals = self.totals
        totals.stray_tmp_receipts = sum(1 for p in self.receipts.glob(".accuse-*.tmp"))
        made = set(self.accuse_files())
        ours = {
            row[0]
            for row in self.rows("SELECT dmp_id FROM dmps WHERE first_name LIKE ?", ("BENCH%",))
        }
        strangers = made - ours
        if strangers:
            totals.failures.append(f"accusé files for DMPs the service does not hold: {strangers}")
            totals.accuse_duplicates += len(strangers)

    def run(self) -> Totals:
        self.calibrate()
        for number in range(self.iterations):
            self.iteration(number)
        self.finish()
        return self.totals


def report(run: KillRun, seconds: float) -> str:
    t = run.totals
    lines = [
        f"database                        : {run.backend}",
        f"iterations                      : {t.iterations} (seed {run.seed}), "
        f"T_k (unkilled child, median of {CALIBRATION_RUNS}) = "
        + ", ".join(f"{k}: {v * 1000:.0f} ms" for k, v in sorted(run.durations.items())),
        "kills by phase (last step heard from the child):",
    ]
    for key, label in PHASES.items():
        if t.phases.get(key):
            lines.append(f"  {t.phases[key]:4d}  {label}")
    for key, count in t.phases.items():
        if key not in PHASES:
            lines.append(f"  {count:4d}  {key}")
    lines += [
        f"patients                        : {t.patients}",
        f"confirmed captures              : {t.confirmed}",
        f"unconfirmed, still went through : {t.unconfirmed_through}",
        f"unconfirmed, nothing made       : {t.unconfirmed_none}",
        f"DMPs created                    : {t.dmps}",
        f"duplicates                      : {t.duplicates}",
        f"lost captures                   : {t.lost}",
        f"entries left                    : {t.left} (held: {t.held})",
        f"accusés                         : {t.accuses} (duplicate files {t.accuse_duplicates},"
        f" missing {t.accuse_missing})",
        f"stray temporary files           : outbox {t.stray_tmp_outbox}, receipts "
        f"{t.stray_tmp_receipts} (killed atomic writes)",
        f"replays                         : {t.replays} children, {t.replay_reruns} run again"
        + (
            " (" + ", ".join(f"{k} ×{v}" for k, v in t.replay_stops.most_common()) + ")"
            if t.replay_stops
            else ""
        ),
        f"total time                      : {seconds:.1f} s",
        f"result                          : {'PASS' if t.ok else 'FAIL'} "
        "(target: 0 duplicates, 0 lost, 0 left)",
    ]
    lines += [f"  {failure}" for failure in t.failures[:20]]
    return "\n".join(lines)


def totals_json(run: KillRun, seconds: float) -> dict:
    t = run.totals
    value = {
        name: getattr(t, name)
        for name in Totals.__dataclass_fields__
        if isinstance(getattr(t, name), int)
    }
    value.update(
        phases=dict(t.phases),
        replay_stops=dict(t.replay_stops),
        failures=t.failures,
        ok=t.ok,
        database=run.backend,
        seconds=round(seconds, 1),
        durations_ms={k: round(v * 1000) for k, v in run.durations.items()},
    )
    return value


def execute(
    iterations: int, seed: int, quiet: bool = False, backend: str = "sqlite"
) -> tuple[KillRun, float]:
    """The whole run in a temporary folder, removed with the service stopped (and its
    PostgreSQL schema dropped) whatever happens."""
    workdir = Path(tempfile.mkdtemp(prefix="proclient-outbox-kill-"))
    run = KillRun(workdir, iterations, seed, quiet, backend)
    start = time.monotonic()
    try:
        run.start()
        run.run()
    finally:
        run.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return run, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", action="store_true", help="the totals as one JSON document")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the service's database: a SQLite file, or a schema of its own in the "
        "PostgreSQL of PROCLIENT_TEST_POSTGRES_URL",
    )
    args = parser.parse_args()
    run, seconds = execute(args.iterations, args.seed, quiet=args.json, backend=args.database)
    if args.json:
        print(json.dumps(totals_json(run, seconds)))
    else:
        print(report(run, seconds))
    sys.exit(0 if run.totals.ok else 1)


if __name__ == "__main__":
    main()
