"""What the metrics middleware (proclient/server/metrics.py, ``RequestMetrics``) costs a request.

The same ASGI request (a routed POST answered 201 with a small JSON body, and a 429 problem
answer, whose code the middleware reads from the body) run many times straight into a bare
ASGI app and through ``RequestMetrics``: metrics off (what every service pays: a pass-through),
on in one process, and on in prometheus_client's multiprocess mode (a worker of
``--workers N``: counts written to mmap'ed files). Prints microseconds of CPU per request
for each, and the difference, next to the floor of a bare TLS request (~1.2 ms, issue 24).

    .venv/bin/python benchmarks/metrics_cost.py [--requests 200000]

Each mode runs in a process of its own (the multiprocess mode is chosen by
PROMETHEUS_MULTIPROC_DIR before prometheus_client is imported).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class _Route:
    path = "/v1/dmp"


_ROUTE = _Route()
_OK_START = {
    "type": "http.response.start",
    "status": 201,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"20")],
}
_OK_BODY = {"type": "http.response.body", "body": b'{"dmp_id": "x" }   '}
_PROBLEM = json.dumps({"status": 429, "code": "AUTH_RATE_LIMITED", "detail": "x" * 80}).encode()
_PROBLEM_START = {
    "type": "http.response.start",
    "status": 429,
    "headers": [(b"content-type", b"application/problem+json")],
}
_PROBLEM_BODY = {"type": "http.response.body", "body": _PROBLEM}


async def bare_app(scope, receive, send) -> None:
    """What the router does (the route in the scope), then a fixed answer."""
    scope["route"] = _ROUTE
    if scope["path"] == "/v1/auth/challenge":
        await send(_PROBLEM_START)
        await send(_PROBLEM_BODY)
        return
    await send(_OK_START)
    await send(_OK_BODY)


async def _receive():
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(_message) -> None:
    return None


async def _run(app, count: int, path: str) -> float:
    scope_base = {"type": "http", "method": "POST", "path": path, "headers": []}
    started = time.process_time()
    for _ in range(count):
        await app(dict(scope_base), _receive, _send)
    return (time.process_time() - started) / count * 1e6


def measure(mode: str, count: int) -> dict:
    from proclient.server import metrics

    app = bare_app
    if mode != "none":
        if mode in ("on", "multiprocess"):
            metrics.enable()
        app = metrics.RequestMetrics(bare_app)

    async def both() -> dict:
        await _run(app, 2000, "/v1/dmp")  # warm: children made, files mapped
        await _run(app, 2000, "/v1/auth/challenge")
        return {
            "ok": await _run(app, count, "/v1/dmp"),
            "problem": await _run(app, max(1, count // 10), "/v1/auth/challenge"),
            "counters": _counters(count) if mode in ("on", "multiprocess") else 0.0,
        }

    return asyncio.run(both())


def _counters(count: int) -> float:
    """µs of the route handlers' own counts for one creation (its INSi answer, the DMP)."""
    from proclient.server import metrics

    started = time.process_time()
    for _ in range(count):
        metrics.insi_answered("card", "00")
        metrics.dmp_written("creation", 201, False)
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(measure(args.mode, args.requests)))
        return
    results = {}
    for mode in ("none", "off", "on", "multiprocess"):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with tempfile.TemporaryDirectory() as folder:
            if mode == "multiprocess":
                env["PROMETHEUS_MULTIPROC_DIR"] = folder
            done = subprocess.run(
                [sys.executable, __file__, "--mode", mode, "--requests", str(args.requests)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        results[mode] = json.loads(done.stdout)
    base = results["none"]
    print(f"{args.requests} requests per mode, CPU time (time.process_time), µs per request")
    labels = {
        "none": "bare ASGI app",
        "off": "RequestMetrics, metrics off",
        "on": "RequestMetrics, one process",
        "multiprocess": "RequestMetrics, multiprocess",
    }
    for mode, figures in results.items():
        extra = (
            ""
            if mode == "none"
            else (
                f"  (+{figures['ok'] - base['ok']:.1f} µs; 429 problem +"
                f"{figures['problem'] - base['problem']:.1f} µs)"
            )
        )
        print(
            f"  {labels[mode]:32} 201: {figures['ok']:6.1f}  429: {figures['problem']:6.1f}{extra}"
        )
    cost = results["multiprocess"]["ok"] - base["ok"]
    per_creation = 2 * cost + results["multiprocess"]["counters"]
    print(
        f"a creation with its INSi look-up (2 requests and the handlers' 2 counts), "
        f"multiprocess: +{per_creation:.1f} µs"
    )
    print(
        f"floor of a bare TLS request on the service's stack: ~1200 µs of server CPU (issue 24); "
        f"the middleware adds {cost:.1f} µs ({cost / 1200:.1%}) in multiprocess mode"
    )


if __name__ == "__main__":
    main()
