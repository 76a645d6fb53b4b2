"""Several `proclient serve` hosts behind HAProxy, on one PostgreSQL (a primary with its
synchronous standby when scripts/pg_pair.sh can make one), on this machine: brought
up, put through host deaths, a failover of the database, a rolling update and a throughput
run, and taken down, nothing left running. Each scenario prints its figures.

    .venv/bin/python benchmarks/topology.py up [--hosts 3] [--runs 50] [--failover-runs 20]
        [--scenarios host-kill,primary-kill,rolling,throughput] [--clients 16] [--json]
    .venv/bin/python benchmarks/topology.py up --hold     # an operator's trial: Ctrl-C ends it

- host-kill: ``--clients`` workstations create DMPs through HAProxy (INSi look-up, then the
  creation; one in 8 with online access); one host is killed (SIGKILL) at a random moment;
  the run goes on until every workstation has succeeded again. Checked: every creation a
  workstation was told of is in the database, no patient has two DMPs, no workstation was
  told two dmp_ids, every initial password reached the workstation (first answer or
  reissue). The killed host is started again between runs.
- primary-kill: the same load on a fresh pg_pair.sh pair per run; the primary is killed
  (kill -9) and the standby promoted; the hosts reconnect by themselves (libpq multi-host,
  target_session_attrs=read-write). Then ``--async-runs`` runs with synchronous_commit off:
  the creations acknowledged then lost are the figure the setting prevents.
- rolling: under load, each host in turn gets SIGTERM (it drains), exits, starts again and
  waits until ready and back in HAProxy: the workstations must see no failure.
- throughput: creations per second with 1, 2 and 3 hosts through HAProxy
  (``--throughput-clients``, 8), and the hosts' CPU per creation.

The database: a pg_pair.sh pair (synchronous) when PostgreSQL's binaries are there, else the
test PostgreSQL of PROCLIENT_TEST_POSTGRES_URL (scripts/services/postgres.sh); primary-kill
needs the pair. Every workstation has its own source address (127.0.1.x): HAProxy forwards it
and the hosts' per-address limits (challenges_per_minute, printed) count per workstation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_throughput import write_register  # noqa: E402
from topology_kit import (  # noqa: E402
    Pair,
    Topology,
    cpu_seconds,
    create_schema,
    drop_schema,
    haproxy_available,
    with_schema,
)
from topology_load import (  # noqa: E402
    Serials,
    Tally,
    check,
    open_workstations,
    percentile,
    recovery,
)

SCENARIOS = ("host-kill", "primary-kill", "rolling", "throughput")
RECOVERY_CAP = 60.0  # seconds a run waits for every workstation to succeed again
WEB_EVERY = 8  # one creation in 8 asks for online access (a password to hand over)


def say(text: str) -> None:
    print(text, flush=True)


class _Retries(logging.Handler):
    """Counts the client's own quiet retries (a connection cut, a 503), as it logs them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("DMP service busy or unreachable"):
            self.count += 1


RETRIES = _Retries()


def client_log(path: Path) -> None:
    """The workstations' client logs (its retries: « transport error », « retry in ») go to
    ``path`` with their times, not to the console; their retries are counted (RETRIES)."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("proclient.service")
    logger.addHandler(handler)
    logger.addHandler(RETRIES)
    logger.setLevel(logging.INFO)
    logger.propagate = False


# --- one load run --------------------------------------------------------------------------


async def load_run(topo: Topology, stations, serials: Serials, event, *, settle: float = 0.5):
    """The workstations create until ``event`` (an async callable, the scenario's moment:
    returns the time of the fault or None) is done and every workstation succeeded again."""
    tally = Tally()
    stop = asyncio.Event()
    retries = RETRIES.count
    tasks = [asyncio.create_task(s.loop(serials, tally, stop, WEB_EVERY)) for s in stations]
    fault_at = None
    try:
        fault_at = await event(tally)
        if fault_at is not None:
            deadline = fault_at + RECOVERY_CAP
            while recovery(tally, fault_at, len(stations)) is None:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
        await asyncio.sleep(settle)
    finally:
        # The creations running end (a workstation asks until it is answered), within
        # RECOVERY_CAP: those still unanswered then are abandoned, and counted so.
        stop.set()
        _done, pending = await asyncio.wait(tasks, timeout=RECOVERY_CAP)
        for task in pending:
            task.cancel()
        ended = await asyncio.gather(*tasks, return_exceptions=True)
    _raise_a_workstations_error(ended)
    tally.client_retries = RETRIES.count - retries
    return tally, fault_at


def _raise_a_workstations_error(ended: list) -> None:
    """A workstation's loop that ended on an error of the benchmark's own (no patient left,
    a bug), not on the run's stop: the figures would be wrong, so the run fails."""
    for outcome in ended:
        if isinstance(outcome, Exception) and not isinstance(outcome, asyncio.CancelledError):
            raise RuntimeError("a workstation stopped on an error") from outcome


async def _until_done(tally: Tally, wanted: int, tasks: list[asyncio.Task]) -> None:
    """Until ``wanted`` creations are done; a workstation that stopped on an error ends the
    wait with that error (it used to leave the run waiting for ever)."""
    while len(tally.done()) < wanted:
        if any(task.done() for task in tasks):
            _raise_a_workstations_error(await asyncio.gather(*tasks, return_exceptions=True))
            raise RuntimeError("a workstation stopped before the run's end")
        await asyncio.sleep(0.02)


def run_figures(tally: Tally, fault_at: float | None, stations: int, database: str) -> dict:
    verdict = check(database, tally)
    done = tally.done()
    stall = max((c.ended - c.started for c in done), default=0.0)
    return {
        "creations": len(done),
        "lost": verdict.lost,
        "duplicates": verdict.duplicates,
        "orphans": verdict.orphans,
        "abandoned": verdict.abandoned,
        "refused": len(tally.refusals),
        "refusal_codes": sorted(set(tally.refusals)),
        "passwords_asked": sum(1 for c in done if c.web),
        "passwords_lost": verdict.passwords_lost,
        "passwords_reissued": verdict.passwords_reissued,
        "failures_seen": len(tally.failures),
        "client_retries": tally.client_retries,
        "faulted": fault_at is not None,
        "recovery": None if fault_at is None else recovery(tally, fault_at, stations),
        "longest_creation": stall,
    }


def summary(name: str, runs: list[dict]) -> dict:
    recoveries = [r["recovery"] for r in runs if r["recovery"] is not None]
    total = {
        "scenario": name,
        "runs": len(runs),
        "creations": sum(r["creations"] for r in runs),
        "lost": sum(r["lost"] for r in runs),
        "duplicates": sum(r["duplicates"] for r in runs),
        "orphans": sum(r["orphans"] for r in runs),
        "abandoned": sum(r["abandoned"] for r in runs),
        "refused": sum(r["refused"] for r in runs),
        "passwords_asked": sum(r["passwords_asked"] for r in runs),
        "passwords_lost": sum(r["passwords_lost"] for r in runs),
        "passwords_reissued": sum(r["passwords_reissued"] for r in runs),
        "failures_seen": sum(r["failures_seen"] for r in runs),
        "client_retries": sum(r["client_retries"] for r in runs),
        "never_recovered": sum(1 for r in runs if r["faulted"] and r["recovery"] is None),
        "recovery_p50": percentile(recoveries, 0.5) if recoveries else None,
        "recovery_max": max(recoveries) if recoveries else None,
        "longest_creation_max": max((r["longest_creation"] for r in runs), default=0.0),
    }
    return total


def print_summary(total: dict, runs: list[dict]) -> None:
    def seconds(value):
        return "—" if value is None else f"{value:.2f} s"

    say(
        f"{total['scenario']}: {total['runs']} run(s), {total['creations']} creations "
        f"acknowledged; duplicates {total['duplicates']}, lost {total['lost']}, "
        f"unacknowledged DMPs {total['orphans']}, refused {total['refused']}, left "
        f"unanswered at the run's end {total['abandoned']}; initial "
        f"passwords: {total['passwords_asked']} asked, {total['passwords_reissued']} reissued "
        f"after a lost answer, {total['passwords_lost']} lost for good; failures the "
        f"workstations saw (after the client's own retries) {total['failures_seen']}; the "
        f"client's own quiet retries (same Idempotency-Key) {total['client_retries']}"
    )
    if any(r["faulted"] for r in runs):
        say(
            f"  time until every workstation succeeds again: p50 {seconds(total['recovery_p50'])}"
            f", max {seconds(total['recovery_max'])}; never within {RECOVERY_CAP:.0f} s: "
            f"{total['never_recovered']}; longest single creation "
            f"{total['longest_creation_max']:.2f} s"
        )


# --- scenarios -------------------------------------------------------------------------------


async def host_kill(topo: Topology, args, serials: Serials, rng: random.Random) -> dict:
    active = topo.hosts[: args.hosts]
    stations = await open_workstations(args.clients, topo.lb_url, topo.ca, topo.pki_dir)
    runs = []
    try:
        for number in range(1, args.runs + 1):
            victim = rng.choice(active)

            async def kill(_tally, victim=victim):
                await asyncio.sleep(rng.uniform(0.3, 2.0))
                topo.kill_host(victim)  # SIGKILL and reaped: the host is gone from here on
                return time.monotonic()

            tally, fault_at = await load_run(topo, stations, serials, kill)
            figures = run_figures(tally, fault_at, len(stations), topo.database)
            figures["killed"] = victim.name
            runs.append(figures)
            if args.verbose:
                say(f"  run {number}: {json.dumps(figures)}")
            await asyncio.to_thread(topo.start_host, victim)
            await asyncio.to_thread(topo.wait_ready, victim)
            await asyncio.to_thread(topo.wait_balancer, {h.name for h in active})
    finally:
        await asyncio.gather(*(s.close() for s in stations))
    total = summary("host-kill", runs)
    print_summary(total, runs)
    return total


async def rolling(topo: Topology, args, serials: Serials) -> dict:
    active = topo.hosts[: args.hosts]
    names = {h.name for h in active}
    stations = await open_workstations(args.clients, topo.lb_url, topo.ca, topo.pki_dir)
    stops: list[float] = []

    async def update(_tally):
        await asyncio.sleep(1.0)
        for host in active:
            stops.append(await asyncio.to_thread(topo.terminate_host, host))
            await asyncio.to_thread(topo.start_host, host)
            await asyncio.to_thread(topo.wait_ready, host)
            await asyncio.to_thread(topo.wait_balancer, names)
        return None

    try:
        tally, _ = await load_run(topo, stations, serials, update, settle=1.0)
    finally:
        await asyncio.gather(*(s.close() for s in stations))
    figures = run_figures(tally, None, len(stations), topo.database)
    total = summary("rolling", [figures])
    print_summary(total, [figures])
    say(
        f"  {len(active)} host(s) restarted one by one under load; SIGTERM to exit: "
        + ", ".join(f"{s:.1f} s" for s in stops)
        + f"; longest single creation {figures['longest_creation']:.2f} s"
    )
    total["stop_seconds"] = stops
    return total


async def throughput(topo: Topology, args, serials: Serials) -> dict:
    rates = {}
    for count in range(1, args.hosts + 1):
        await asyncio.to_thread(topo.serve_with, count)
        stations = await open_workstations(
            args.throughput_clients, topo.lb_url, topo.ca, topo.pki_dir
        )
        try:
            for label, wanted in (
                ("warm-up", args.throughput_clients * 6),
                ("run", args.creations),
            ):
                tally = Tally()
                stop = asyncio.Event()
                pids = [h.process.pid for h in topo.hosts[:count] if h.process]
                cpu = sum(cpu_seconds(pid) for pid in pids)
                lb_cpu = cpu_seconds(topo.haproxy.pid) if topo.haproxy else 0.0
                started = time.monotonic()
                tasks = [asyncio.create_task(s.loop(serials, tally, stop, 0)) for s in stations]
                try:
                    await _until_done(tally, wanted, tasks)
                finally:
                    stop.set()
                await asyncio.gather(*tasks)
                elapsed = time.monotonic() - started
                done = len(tally.done())
                if label == "run":
                    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu
                    lb_cpu = (cpu_seconds(topo.haproxy.pid) if topo.haproxy else 0.0) - lb_cpu
                    latencies = [c.ended - c.started for c in tally.done()]
                    rates[count] = {
                        "creations_per_s": done / elapsed,
                        "p50_ms": percentile(latencies, 0.5) * 1000,
                        "p99_ms": percentile(latencies, 0.99) * 1000,
                        "hosts_cpu_ms_per_creation": cpu / done * 1000,
                        "haproxy_cpu_ms_per_creation": lb_cpu / done * 1000,
                        "failures_seen": len(tally.failures),
                    }
                    say(
                        f"throughput, {count} host(s): {done / elapsed:6.1f} creations/s "
                        f"(p50 {rates[count]['p50_ms']:.0f} ms, p99 {rates[count]['p99_ms']:.0f}"
                        f" ms; hosts' CPU {rates[count]['hosts_cpu_ms_per_creation']:.2f} ms, "
                        f"HAProxy's {rates[count]['haproxy_cpu_ms_per_creation']:.2f} ms per "
                        f"creation)"
                    )
        finally:
            await asyncio.gather(*(s.close() for s in stations))
    await asyncio.to_thread(topo.serve_with, args.hosts)
    return {"scenario": "throughput", "clients": args.throughput_clients, "by_hosts": rates}


async def primary_kill(topo: Topology, args, rng: random.Random, runs: int, sync: bool) -> dict:
    """``runs`` runs, each on a fresh pair: hosts started on it, load, kill -9 the primary,
    promote the standby, until every workstation succeeded again; hosts stopped, pair removed."""
    active = topo.hosts[: args.hosts]
    figures_all = []
    promote_times = []
    incomplete: list[int] = []
    for number in range(1, runs + 1):
        pair = Pair(topo.root / f"pg-{'sync' if sync else 'async'}-{number}", sync=sync)
        try:
            topo.database = await asyncio.to_thread(pair.up)
            per_run = args.clients * 60
            register = write_register(topo.root / "failover-register.json", list(range(per_run)))
            await asyncio.to_thread(topo.start_hosts, args.hosts, "--insi-register", str(register))
            await asyncio.to_thread(topo.wait_balancer, {h.name for h in active})
            stations = await open_workstations(args.clients, topo.lb_url, topo.ca, topo.pki_dir)
            serials = Serials(0, per_run)

            async def fail_over(_tally, pair=pair, number=number):
                await asyncio.sleep(rng.uniform(0.5, 2.0))
                try:
                    await asyncio.to_thread(pair.kill_primary)  # returns once it is dead
                except RuntimeError as error:  # a backend outlived it: promote all the same
                    say(f"  run {number}: {error}")
                    incomplete.append(number)
                at = time.monotonic()
                await asyncio.to_thread(pair.promote)
                promote_times.append(time.monotonic() - at)
                return at

            try:
                tally, fault_at = await load_run(topo, stations, serials, fail_over)
            finally:
                await asyncio.gather(*(s.close() for s in stations))
            figures = run_figures(tally, fault_at, len(stations), topo.database)
            figures_all.append(figures)
            if args.verbose:
                say(f"  run {number}: {json.dumps(figures)}")
        finally:
            for host in active:
                await asyncio.to_thread(topo.terminate_host, host, 30)
            await asyncio.to_thread(pair.down)
    name = "primary-kill" if sync else "primary-kill, synchronous_commit off"
    total = summary(name, figures_all)
    total["kill_incomplete"] = incomplete
    print_summary(total, figures_all)
    if promote_times:
        say(
            f"  kill -9 of the primary to the standby promoted and writable (pg_pair.sh): "
            f"p50 {percentile(promote_times, 0.5):.2f} s, max {max(promote_times):.2f} s"
        )
    return total


# --- the whole topology ----------------------------------------------------------------------


async def scenarios(topo: Topology, args, serials: Serials) -> list[dict]:
    rng = random.Random(args.seed)
    results = []
    wanted = args.scenarios.split(",")
    for name in wanted:
        if name not in SCENARIOS:
            raise SystemExit(f"unknown scenario {name!r} (one of {', '.join(SCENARIOS)})")
    if "throughput" in wanted:
        results.append(await throughput(topo, args, serials))
    if "host-kill" in wanted:
        results.append(await host_kill(topo, args, serials, rng))
    if "rolling" in wanted:
        results.append(await rolling(topo, args, serials))
    if "primary-kill" in wanted:
        if not Pair.available():
            say("primary-kill: skipped (scripts/pg_pair.sh or pg_basebackup absent)")
        else:
            for host in topo.hosts[: args.hosts]:
                await asyncio.to_thread(topo.terminate_host, host, 30)
            results.append(await primary_kill(topo, args, rng, args.failover_runs, True))
            if args.async_runs:
                results.append(await primary_kill(topo, args, rng, args.async_runs, False))
    return results


def patients_needed(args) -> int:
    wanted = args.scenarios.split(",")
    count = 0
    if "host-kill" in wanted:
        count += args.runs * args.clients * 40
    if "rolling" in wanted:
        count += args.clients * 20 * (args.hosts + 2) * 4
    if "throughput" in wanted:
        # Each host count: the warm-up (6 per workstation) and the run, plus what the
        # workstations take after the count is reached and what a resend takes again.
        count += args.hosts * (args.creations * 5 // 4 + args.throughput_clients * 16)
    return max(count, 1000)


def database_for(root: Path) -> tuple[str, object]:
    """The hosts' database and what to tear down: a synchronous pair, or a schema of the test
    PostgreSQL."""
    if Pair.available():
        pair = Pair(root / "pg")
        return pair.up(), pair
    admin = os.environ.get("PROCLIENT_TEST_POSTGRES_URL")
    if not admin:
        raise SystemExit(
            "No PostgreSQL: install PostgreSQL 15 (pg_pair.sh) or source "
            "scripts/services/postgres.sh (PROCLIENT_TEST_POSTGRES_URL)"
        )
    schema = f"topology_{uuid.uuid4().hex[:10]}"
    create_schema(admin, schema)
    return with_schema(admin, schema), (admin, schema)


def up(args) -> int:
    if not haproxy_available():
        raise SystemExit("haproxy is not installed (Debian: apt install haproxy)")
    root = Path(tempfile.mkdtemp(prefix="proclient-topology-"))
    root.chmod(0o755)  # pg_pair.sh's PostgreSQL (user postgres) goes through it
    teardown = None
    topo = None
    results: list[dict] = []
    try:
        database, teardown = database_for(root)
        settings = {"challenges_per_minute": args.challenges, "drain_seconds": args.drain}
        topo = Topology(root, database, args.hosts, settings)
        topo.prepare()
        client_log(root / "clients.log")
        count = patients_needed(args)
        register = write_register(root / "insi-register.json", list(range(count)))
        started = time.monotonic()
        topo.start_hosts(args.hosts, "--insi-register", str(register))
        topo.start_haproxy()
        topo.serve_with(args.hosts)
        say(
            f"topology up in {time.monotonic() - started:.1f} s: {args.hosts} host(s) "
            + ", ".join(f"{h.address}:{h.port}" for h in topo.hosts[: args.hosts])
            + f" behind HAProxy on {topo.lb_url}; database "
            + (
                "a synchronous pair (pg_pair.sh)"
                if isinstance(teardown, Pair)
                else "the test PostgreSQL"
            )
            + f"; {count} patients in the INSi register; {args.clients} workstations, each "
            f"its own address (127.0.1.x); [server] challenges_per_minute = {args.challenges}, "
            f"drain_seconds = {args.drain}; {os.cpu_count()} CPUs"
        )
        if args.hold:
            say(f"CA: {topo.ca}; HAProxy's runtime API: {topo.socket_path}. Ctrl-C ends it.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        else:
            serials = Serials(0, count)
            results = asyncio.run(scenarios(topo, args, serials))
    finally:
        if topo is not None:
            topo.down()
        if isinstance(teardown, Pair):
            teardown.down()
        elif teardown is not None:
            drop_schema(*teardown)
        if args.keep:
            say(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(results), flush=True)
    bad = any(
        r.get("lost")
        or r.get("duplicates")
        or r.get("passwords_lost")
        or r.get("refused")
        or r.get("abandoned")
        for r in results
        if "off" not in r.get("scenario", "")
    )
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="bring the topology up, run the scenarios, take it down")
    p.add_argument("--hosts", type=int, default=3, choices=(1, 2, 3))
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--runs", type=int, default=50, help="host-kill runs")
    p.add_argument("--failover-runs", type=int, default=20, help="primary-kill runs")
    p.add_argument("--async-runs", type=int, default=1, help="primary-kill runs, sync off")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--throughput-clients", type=int, default=8)
    p.add_argument("--creations", type=int, default=600, help="per throughput measurement")
    p.add_argument("--challenges", type=int, default=30, help="[server] challenges_per_minute")
    p.add_argument("--drain", type=float, default=10.0, help="[server] drain_seconds")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--hold", action="store_true", help="keep it up until Ctrl-C")
    p.add_argument("--keep", action="store_true", help="keep the folder (logs) at the end")
    p.add_argument("--verbose", action="store_true", help="every run's figures")
    p.add_argument("--json", action="store_true", help="the figures as JSON, last line")
    args = parser.parse_args()
    return up(args)


if __name__ == "__main__":
    sys.exit(main())
