"""Time from « approve » on the e-CPS phone to the workstation's session open (issue 22).

The real parts: ``proclient serve --init-demo`` (HTTPS) as a PSC client, the Pro Santé
Connect stand-in as a process of its own beside it (benchmarks/psc_standin_proc.py, driven on
stdin: the « phone »), and the workstation's client (``DmpServiceClient`` + ``EcpsClient``)
in this process. Per run: start a sign-in, wait a random part of the CIBA interval (the
phone is answered whenever the professional gets to it), polling the service every ``pause``
seconds all along as the App does; the figure is approve → session open.

Two links: loopback, and with ``--weak`` the link of benchmarks/weak_network.py (RTT 300 ms,
1 % loss each way; the service and the stand-in inside the namespace, the workstation
outside; needs root). The floor: the service asks PSC's token endpoint at most once per CIBA
interval (5 s: PSC's rhythm, which a client must honour), so an approval waits for the next
of those polls, 0 to 5 s (2.5 s on average), plus the workstation's next poll and one round
trip. The workstation's own pause (1 s in the App) adds up to one pause.

    .venv/bin/python benchmarks/ecps_signin.py [--runs 6]
    sudo .venv/bin/python benchmarks/ecps_signin.py --weak [--runs 6]

The service limits sign-in starts to 3 per national id within 5 minutes (a flood cannot
make PSC push to a phone): the runs go round the three demo professionals, 9 at most.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This tree's proclient and serve_kit first, also when run from a git worktree.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from serve_kit import (  # noqa: E402
    demo_ca,
    free_port,
    serve_command,
    spawn_service,
    stop_service,
    wait_healthy,
    write_register,
)

from proclient.server.demo import DEMO_PROFESSIONALS  # noqa: E402
from proclient.service.client import DmpServiceClient  # noqa: E402
from proclient.service.ecps import EcpsClient, EcpsPending  # noqa: E402

PSC_PORT = 9443
INTERVAL = 5.0


def start_standin(home: Path, prefix: list[str], port: int) -> tuple[subprocess.Popen, list[str]]:
    import proclient

    pki = home / "data" / "server" / "demo" / "pki"
    script = Path(__file__).with_name("psc_standin_proc.py")
    root = str(Path(proclient.__file__).resolve().parents[1])
    process = subprocess.Popen(
        [*prefix, sys.executable, str(script), str(pki), str(home / "psc"), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"},
        start_new_session=True,
    )
    words = process.stdout.readline().split()
    if not words or words[0] != "ready":
        process.kill()
        raise RuntimeError("the PSC stand-in did not start")
    return process, words[1:]


def phone(process: subprocess.Popen, command: str) -> str:
    process.stdin.write(command + "\n")
    process.stdin.flush()
    return process.stdout.readline().strip()


def write_config(home: Path, discovery: str, client_id: str, secret_file: str) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    ca = home / "data" / "server" / "demo" / "pki" / "ca.pem"
    (config / "config.toml").write_text(
        "[server]\n"
        f'psc_discovery_url = "{discovery}"\n'
        f'psc_client_id = "{client_id}"\n'
        f'psc_client_secret_file = "{secret_file}"\n'
        f'psc_ca = "{ca}"\n',
        encoding="utf-8",
    )


async def one_run(url: str, ca: Path, standin, national_id: str, pause: float) -> float:
    client = DmpServiceClient(
        url, verify=ssl.create_default_context(cafile=str(ca)), workstation="b" * 43
    )
    try:
        ecps = EcpsClient(client)
        request = await ecps.start(national_id)
        approve_at = time.monotonic() + random.uniform(0.2, 2 * INTERVAL)
        approved: float | None = None
        while True:  # as the App: polls all along, the phone answered whenever
            if approved is None and time.monotonic() >= approve_at:
                if phone(standin, f"approve {national_id}") != "yes":
                    raise RuntimeError("the phone had no request")
                approved = time.monotonic()
            answer = await ecps.poll(request)
            if not isinstance(answer, EcpsPending):
                if approved is None:
                    raise RuntimeError("a session before the approval")
                return time.monotonic() - approved
            await asyncio.sleep(pause)
    finally:
        await client.aclose()


def figures(label: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (
        f"{label:<34} median {statistics.median(ordered):5.2f} s   p90 {p90:5.2f} s   "
        f"max {ordered[-1]:5.2f} s   (n={len(ordered)})"
    )


async def measure(url: str, ca: Path, standin, runs: int) -> None:
    ids = [p.id_nat for p in DEMO_PROFESSIONALS]
    results: dict[float, list[float]] = {1.0: [], 0.2: []}
    for index in range(runs):
        pause = 1.0 if index % 2 == 0 else 0.2
        results[pause].append(await one_run(url, ca, standin, ids[index % len(ids)], pause))
    print(
        f"floor: one CIBA poll interval, {INTERVAL:.0f} s at worst, {INTERVAL / 2:.1f} s on average"
    )
    for pause, seconds in results.items():
        if seconds:
            print(figures(f"approve → session, polls every {pause} s", seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--weak", action="store_true", help="over weak_network.py's link (root)")
    args = parser.parse_args()
    runs = min(args.runs, 9)
    home = Path(tempfile.mkdtemp(prefix="proclient-ecps-bench-"))
    link = service = standin = None
    try:
        if args.weak:
            from weak_network import PORT, make_link

            link = make_link()
            prefix, host, port, psc_port = (
                ["ip", "netns", "exec", link.namespace],
                link.ns_ip,
                PORT,
                PSC_PORT,
            )
            print(f"link: RTT 300 ms, 1 % loss ({type(link).__name__})")
        else:
            prefix, host, port, psc_port = [], "127.0.0.1", free_port(), free_port()
            print("link: loopback")
        standin, (discovery, client_id, secret_file) = start_standin(home, prefix, psc_port)
        write_config(home, discovery, client_id, secret_file)
        register = write_register(home / "register.json", [])
        service = spawn_service(home, [*prefix, *serve_command(home, host, port, register)])
        url = f"https://{host}:{port}"
        wait_healthy(url, demo_ca(home), service)
        asyncio.run(measure(url, demo_ca(home), standin, runs))
    finally:
        if service is not None:
            stop_service(service)
        if standin is not None:
            try:
                phone(standin, "quit")
            except (BrokenPipeError, ValueError):
                pass
            try:
                standin.wait(timeout=10)
            except subprocess.TimeoutExpired:
                standin.kill()
        if link is not None:
            link.remove()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
