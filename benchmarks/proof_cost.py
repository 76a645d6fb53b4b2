"""What issue 23's proof costs the service: `server_throughput.py` on this tree (statement
signed, audit journal with MACs and seals) next to the same benchmark on the release before
issue 23 (6e65bf6: neither), taken out into a temporary git worktree, rounds interleaved so that
the machine's drift falls on both alike. Prints creations/s and service CPU per creation, each
run and their means, and the cost in percent.

    .venv/bin/python benchmarks/proof_cost.py [--rounds 3] [--clients 4] [--creations 4000]
        [--backend sqlite|postgresql|both] [--before 6e65bf6]

PostgreSQL: PROCLIENT_TEST_POSTGRES_URL (scripts/services/postgres.sh sets it). Needs the
repository's history (a clone, not an archive). At most 14 clients: the release before has no
[server] challenges_per_minute, and its 30 challenges a minute per address refuse more
clients logging in twice within a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "6e65bf6"  # the last commit before issue 23
LINE = re.compile(r"^\s*(sqlite|postgresql):\s+([\d.]+) creations/s")
CPU = re.compile(r"service ([\d.]+) ms")


def run(tree: Path, backend: str, clients: int, creations: int) -> tuple[float, float]:
    """(creations/s, service CPU ms per creation) of one server_throughput run in ``tree``."""
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/server_throughput.py",
            "--backend",
            backend,
            "--clients",
            str(clients),
            "--creations",
            str(creations),
        ],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    rate = next(m for m in map(LINE.match, done.stdout.splitlines()) if m)
    cpu = CPU.search(done.stdout)
    assert cpu is not None, done.stdout
    return float(rate.group(2)), float(cpu.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--creations", type=int, default=4000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--before", default=BEFORE)
    args = parser.parse_args()
    if args.clients > 14:
        parser.error("--clients: at most 14 (the release before refuses more logins a minute)")
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    if "postgresql" in backends and not os.environ.get("PROCLIENT_TEST_POSTGRES_URL"):
        print("postgresql: skipped (PROCLIENT_TEST_POSTGRES_URL is not set)")
        backends = tuple(b for b in backends if b != "postgresql")
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), args.before],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            print(
                f"issue 23's cost: {args.before} (no proof) against this tree; "
                f"{args.clients} clients, {args.creations} creations, {args.rounds} rounds"
            )
            for backend in backends:
                figures: dict[str, list[tuple[float, float]]] = {"before": [], "now": []}
                for _round in range(args.rounds):
                    for name, tree in (("before", before), ("now", ROOT)):
                        rate, cpu = run(tree, backend, args.clients, args.creations)
                        figures[name].append((rate, cpu))
                        print(f"{backend:>10} {name:>6}: {rate:6.1f} creations/s, {cpu:.2f} ms")
                rate0 = statistics.mean(r for r, _ in figures["before"])
                cpu0 = statistics.mean(c for _, c in figures["before"])
                rate1 = statistics.mean(r for r, _ in figures["now"])
                cpu1 = statistics.mean(c for _, c in figures["now"])
                print(
                    f"{backend:>10}  means: {rate0:.1f} -> {rate1:.1f} creations/s "
                    f"({(rate1 / rate0 - 1) * 100:+.1f} %), service CPU {cpu0:.2f} -> "
                    f"{cpu1:.2f} ms per creation ({(cpu1 / cpu0 - 1) * 100:+.1f} %); "
                    "target: under 10 %"
                )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False
            )


if __name__ == "__main__":
    main()
