"""The flow from the PIN's Enter to the DMP created, against ``proclient serve`` over a weak
link: RTT 300 ms and 1 % loss each way, as on a poor mobile connection (issue 13).

Needs root (a network namespace, a veth pair, ``tc netem``; where the kernel has no netem, as
in some VMs, a TUN pair and a relay process that delays and drops packets the same way: see
``TunLink``; the first line printed says which). The service runs inside the
namespace and listens only on its end of the veth pair; the workstation (this process, with
``DmpServiceClient`` and the demo software credential) talks to it from the host over that
link. Flow per run, with a new client each time (nothing open before the PIN's Enter):
unlock the credential, login (challenge + session), INSi look-up by traits, TD0.2 status,
TD1.1 creation. A second series ("warm") opens the connection before the PIN's Enter (as a
background service probe would) and times the same flow.

Figures per series: wall time (median, p90, max), HTTP requests, TCP connections opened
(client side: distinct connections seen by the responses; server side: the namespace's
kernel counter TcpPassiveOpens), TLS version, and round trips = TCP handshakes + TLS
handshakes + HTTP requests (each request and its answer fit in one round trip here). The
floor is the same flow over the same veth pair without netem; the target is ≤ 2 s and
≤ 6 round trips including the TLS handshake.

Everything (namespace, link, relay, service) is removed in a ``finally``; the service never
listens outside the namespace.

    sudo .venv/bin/python benchmarks/weak_network.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# The bench patients of benchmarks/creation.py (this script's folder is on sys.path).
from creation import query, request  # noqa: E402
from serve_kit import (  # noqa: E402
    serve_command,
    spawn_service,
    stop_service,
    wait_healthy,
    write_register,
)

from proclient.credentials.software import unlock_demo
from proclient.server.demo import ensure_demo_pki
from proclient.service.client import DmpServiceClient

DELAY_MS, LOSS = 150, "1%"  # each way: RTT 300 ms
TARGET_SECONDS, TARGET_ROUND_TRIPS = 2.0, 6
PORT = 8443


# --- the link ---------------------------------------------------------------------------------


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


@dataclass
class Link:
    """A namespace and a veth pair to it: host end ``host_ip``, namespace end ``ns_ip``."""

    tag: str = field(default_factory=lambda: f"pcb{os.getpid() % 100000}")
    octet: int = field(default_factory=lambda: 16 + os.getpid() % 200)

    @property
    def namespace(self) -> str:
        return f"{self.tag}ns"

    @property
    def host_if(self) -> str:
        return f"{self.tag}h"

    @property
    def ns_if(self) -> str:
        return f"{self.tag}n"

    @property
    def host_ip(self) -> str:
        return f"10.213.{self.octet}.1"

    @property
    def ns_ip(self) -> str:
        return f"10.213.{self.octet}.2"

    def create(self) -> None:
        run("ip", "netns", "add", self.namespace)
        run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        run("ip", "link", "set", self.ns_if, "netns", self.namespace)
        run("ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
        run("ip", "link", "set", self.host_if, "up")
        run("ip", "-n", self.namespace, "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if)
        run("ip", "-n", self.namespace, "link", "set", self.ns_if, "up")
        run("ip", "-n", self.namespace, "link", "set", "lo", "up")

    def shape(self, on: bool) -> None:
        """netem on both ends (each direction gets its delay and loss), or no qdisc at all."""
        for prefix, device in (([], self.host_if), (["-n", self.namespace], self.ns_if)):
            if on:
                netem = ["netem", "delay", f"{DELAY_MS}ms", "loss", LOSS]
                run("tc", *prefix, "qdisc", "replace", "dev", device, "root", *netem)
            else:
                subprocess.run(
                    ["tc", *prefix, "qdisc", "del", "dev", device, "root"], capture_output=True
                )

    def counters(self) -> dict[str, int]:
        """The namespace's TCP counters (the service's side of the link)."""
        out = run("ip", "netns", "exec", self.namespace, "nstat", "-asz")
        values = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                values[parts[0]] = int(parts[1])
        return values

    def remove(self) -> None:
        # Deleting the namespace deletes its veth end, and with it the host end.
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True)


class TunLink(Link):
    """The same link where the kernel has no netem (``Specified qdisc kind is unknown``): a
    TUN device on each side and a relay process between them that holds every packet
    ``DELAY_MS`` and drops ``LOSS`` of them, each way. Packets, not streams: the TCP and TLS
    handshakes cross the delay, and a lost segment is retransmitted by the kernels."""

    relay: int | None = None
    delay: object = None
    loss: object = None

    def create(self) -> None:
        import fcntl
        import multiprocessing
        import struct

        run("ip", "netns", "add", self.namespace)
        fds = []
        for name in (self.host_if, self.ns_if):
            fd = os.open("/dev/net/tun", os.O_RDWR)
            # TUNSETIFF, IFF_TUN | IFF_NO_PI
            fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))
            fds.append(fd)
        run("ip", "link", "set", self.ns_if, "netns", self.namespace)
        run("ip", "addr", "add", self.host_ip, "peer", self.ns_ip, "dev", self.host_if)
        run("ip", "link", "set", self.host_if, "up")
        ns = ["ip", "-n", self.namespace]
        run(*ns, "addr", "add", self.ns_ip, "peer", self.host_ip, "dev", self.ns_if)
        run(*ns, "link", "set", self.ns_if, "up")
        run(*ns, "link", "set", "lo", "up")
        self.delay = multiprocessing.Value("d", 0.0, lock=False)
        self.loss = multiprocessing.Value("d", 0.0, lock=False)
        pid = os.fork()
        if pid == 0:  # the relay: two directions, a reader and a writer each
            try:
                _relay(fds[0], fds[1], self.delay, self.loss)
            finally:
                os._exit(0)
        self.relay = pid
        for fd in fds:
            os.close(fd)

    def shape(self, on: bool) -> None:
        self.delay.value = DELAY_MS / 1000 if on else 0.0
        self.loss.value = float(LOSS.rstrip("%")) / 100 if on else 0.0

    def remove(self) -> None:
        if self.relay is not None:
            os.kill(self.relay, signal.SIGKILL)
            os.waitpid(self.relay, 0)
            self.relay = None
        super().remove()


def _relay(a: int, b: int, delay, loss) -> None:
    import queue
    import random
    import threading

    def reader(source: int, held: queue.Queue) -> None:
        while True:
            packet = os.read(source, 65536)
            if random.random() >= loss.value:
                held.put((time.monotonic() + delay.value, packet))

    def writer(target: int, held: queue.Queue) -> None:
        while True:
            due, packet = held.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            os.write(target, packet)

    threads = []
    for source, target in ((a, b), (b, a)):
        held: queue.Queue = queue.Queue()
        threads.append(threading.Thread(target=reader, args=(source, held), daemon=True))
        threads.append(threading.Thread(target=writer, args=(target, held), daemon=True))
    for thread in threads:
        thread.start()
    threads[0].join()


def make_link() -> Link:
    """A veth pair shaped by netem, or the TUN relay when this kernel has no netem."""
    link = Link()
    link.create()
    try:
        link.shape(True)
        link.shape(False)
        return link
    except subprocess.CalledProcessError:
        link.remove()
    link = TunLink()
    link.create()
    return link


# --- the service ------------------------------------------------------------------------------


def start_service(link: Link, home: Path) -> subprocess.Popen:
    """The service inside the namespace, on its end of the link (serve_kit does the rest)."""
    register = write_register(home / "register.json", range(26 * 26))  # one per name
    command = serve_command(home, link.ns_ip, PORT, register)
    return spawn_service(home, ["ip", "netns", "exec", link.namespace, *command])


# --- the flow ---------------------------------------------------------------------------------


@dataclass
class Flow:
    seconds: float
    requests: int
    connections: int  # distinct connections the answers came on
    server_opens: int  # the service namespace's TcpPassiveOpens during the flow
    retransmits: int  # the service's retransmitted segments during the flow
    tls: str
    http: str

    @property
    def round_trips(self) -> int:
        handshakes = 1 if self.tls == "TLSv1.3" else 2
        return self.connections * (1 + handshakes) + self.requests


class Tally:
    """Counts what the client's own httpx client sends and on which connections."""

    def __init__(self) -> None:
        self.requests = 0
        self.streams: set[int] = set()
        self.tls: set[str] = set()
        self.http: set[str] = set()

    async def __call__(self, response: httpx.Response) -> None:
        self.requests += 1
        self.http.add(response.http_version)
        stream = response.extensions.get("network_stream")
        if stream is not None:
            self.streams.add(id(stream))
            ssl_object = stream.get_extra_info("ssl_object")
            if ssl_object is not None:
                self.tls.add(ssl_object.version() or "?")


def tallied_client(url: str, ca: Path) -> tuple[DmpServiceClient, Tally]:
    client = DmpServiceClient(url, verify=ssl.create_default_context(cafile=str(ca)))
    tally = Tally()
    # A benchmark may look inside: the hook sees every answer of the client's one httpx client.
    client._http.event_hooks["response"].append(tally)
    return client, tally


# What was done before the PIN's Enter: nothing (cold), the probe's connection (warm), or, as
# the App does while the PIN is typed, the connection and the challenge (prepared; "slow":
# typed after the service's 5 s keep-alive closed that connection).
MODES = ("cold", "warm", "prepared", "prepared-slow")
SLOW_PIN_SECONDS = 6.0


async def one_flow(link: Link, url: str, ca: Path, pki, serial: int, warm) -> Flow:
    mode = warm if isinstance(warm, str) else ("warm" if warm else "cold")
    client, tally = tallied_client(url, ca)
    try:
        if mode == "warm":  # the connection a background probe would have opened before the PIN
            await client.health()
            tally.requests, tally.streams = 0, set(tally.streams)
        elif mode.startswith("prepared"):  # the App's prepare_login while the PIN is typed
            await client.prepare_login()
            if mode == "prepared-slow":
                await asyncio.sleep(SLOW_PIN_SECONDS)
            tally.requests, tally.streams = 0, set(tally.streams)
        before = link.counters()
        streams_before = set(tally.streams)
        start = time.perf_counter()
        credential = unlock_demo(pki.default)  # the PIN check (demo PIN)
        await client.login(credential)
        answer = await client.insi_by_traits(query(serial))
        if answer.code.value != "00":
            raise RuntimeError(f"INSi answered {answer.code.value}")
        await client.status(answer.identity.ins)
        result = await client.submit(request(answer, serial, web=False), str(uuid.uuid4()))
        seconds = time.perf_counter() - start
        after = link.counters()
        assert result is not None
    finally:
        await client.aclose()
    new_streams = tally.streams - streams_before
    return Flow(
        seconds,
        tally.requests,
        len(new_streams),
        after.get("TcpPassiveOpens", 0) - before.get("TcpPassiveOpens", 0),
        after.get("TcpRetransSegs", 0) - before.get("TcpRetransSegs", 0),
        "/".join(sorted(tally.tls)) or "?",
        "/".join(sorted(tally.http)) or "?",
    )


def summary(label: str, flows: list[Flow]) -> str:
    times = sorted(f.seconds for f in flows)
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    trips = sorted({f.round_trips for f in flows})
    return (
        f"{label:34}: median {statistics.median(times):5.2f} s, p90 {p90:5.2f} s, "
        f"max {times[-1]:5.2f} s | requests {max(f.requests for f in flows)}, "
        f"connections {max(f.connections for f in flows)} (server saw "
        f"{max(f.server_opens for f in flows)}), {flows[0].tls}, HTTP/{flows[0].http[5:]}, "
        f"round trips {'/'.join(map(str, trips))}, server retransmits "
        f"{sum(f.retransmits for f in flows)}"
    )


LOGINS: list[float] = []  # when each flow's login began


async def paced_flow(link, url, ca, pki, serial: int, warm: bool) -> Flow:
    """One flow, after a pause when the service's challenge limit (30 per address and
    minute, ServerLimits.challenge_limit) would refuse its login."""
    recent = [t for t in LOGINS if t > time.monotonic() - 61]
    if len(recent) >= 28:
        await asyncio.sleep(recent[0] + 61 - time.monotonic())
    LOGINS.append(time.monotonic())
    return await one_flow(link, url, ca, pki, serial, warm)


async def series(link, url, ca, pki, first: int, runs: int, warm: bool) -> list[Flow]:
    return [await paced_flow(link, url, ca, pki, first + i, warm) for i in range(runs)]


async def measure(link: Link, url: str, ca: Path, runs: int) -> None:
    pki = ensure_demo_pki(ca.parent)
    serial = 0
    await series(link, url, ca, pki, serial, 2, False)  # warm the service up, unshaped
    serial += 2
    floor = await series(link, url, ca, pki, serial, runs, False)
    serial += runs
    floor_warm = await series(link, url, ca, pki, serial, runs, True)
    serial += runs
    link.shape(True)
    try:
        rtt_client, _tally = tallied_client(url, ca)
        await rtt_client.health()
        samples = []
        for _ in range(5):  # one request on an open connection: one round trip
            t = time.perf_counter()
            await rtt_client.health()
            samples.append(time.perf_counter() - t)
        await rtt_client.aclose()
        shaped = await series(link, url, ca, pki, serial, runs, False)
        serial += runs
        shaped_warm = await series(link, url, ca, pki, serial, runs, True)
        serial += runs
        shaped_prepared = await series(link, url, ca, pki, serial, runs, "prepared")
        serial += runs
        shaped_slow = await series(link, url, ca, pki, serial, runs, "prepared-slow")
    finally:
        link.shape(False)
    rtt = statistics.median(samples)
    print(f"{DELAY_MS} ms + {LOSS} loss each way; measured RTT (health on an open")
    print(f"connection, median of 5): {rtt * 1000:.0f} ms; {runs} runs per series\n")
    print(summary("weak link, cold (connect at PIN)", shaped))
    print(summary("weak link, warm (probe connected)", shaped_warm))
    print(summary("weak link, challenge fetched at PIN", shaped_prepared))
    print(summary(f"  same, PIN typed in {SLOW_PIN_SECONDS:.0f} s (> keep-alive)", shaped_slow))
    print(summary("floor: same link unshaped, cold", floor))
    print(summary("floor: same link unshaped, warm", floor_warm))
    for label, flows in (
        ("cold", shaped),
        ("as the App does (challenge at PIN, slow typist)", shaped_slow),
    ):
        median = statistics.median(f.seconds for f in flows)
        print(
            f"target: ≤ {TARGET_SECONDS:.0f} s and ≤ {TARGET_ROUND_TRIPS} round trips including "
            f"the TLS handshake; weak link {label}: {median:.2f} s = {median / rtt:.1f} RTT of "
            f"wall time, {statistics.median(f.round_trips for f in flows):.0f} round trips counted"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root: ip netns and tc")
    for tool in ("ip", "tc", "nstat"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found (iproute2)")
    home = Path(tempfile.mkdtemp(prefix="proclient-netem-"))
    process = link = None
    try:
        link = make_link()
        print(f"link: {'veth + tc netem' if type(link) is Link else 'TUN pair + relay (no netem)'}")
        process = start_service(link, home)
        url = f"https://{link.ns_ip}:{PORT}"
        ca = home / "data" / "server" / "demo" / "pki" / "ca.pem"
        wait_healthy(url, ca, process)
        asyncio.run(measure(link, url, ca, args.runs))
    finally:
        if process is not None:
            stop_service(process)
        if link is not None:
            link.remove()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
