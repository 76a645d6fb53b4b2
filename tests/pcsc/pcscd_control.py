"""Start, stop and restart a private pcscd with the vsmartcard vpcd driver (DOMAIN.md §3).

Used by the tests' fixtures (tests/pcsc/conftest.py) and by scripts/services/pcscd.sh
(``python tests/pcsc/pcscd_control.py start``), so that both start the daemon the same way.

pcscd's socket and pid file are fixed paths (/run/pcscd): there is one daemon per machine. An
already running one (a system pcscd, or ours from an earlier run) is stopped by the pid in its
pid file before ours starts; a lock file keeps two test runs from fighting over it.

Loopback only: Debian's vpcd (vsmartcard-vpcd 3.3) binds its slots to every interface and has
no setting for the address, and its reverse mode (vpcd connecting to the card) makes pcscd abort
when no card listens. Our pcscd therefore runs with vpcd_loopback.c preloaded (LD_PRELOAD, built
here with gcc), which binds the wildcard address to 127.0.0.1; ``start`` checks the result in
/proc/net/tcp and refuses a pcscd whose slots listen beyond loopback.

Ownership: the pcscd we start runs with ``-c DIR/reader.conf.d``; ``stop_ours(DIR)`` stops the
running pcscd only when it is that one (scripts/services/pcscd.sh's watchdog, the fixture).
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOCKET = Path("/run/pcscd/pcscd.comm")
PID_FILE = Path("/run/pcscd/pcscd.pid")
DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
LOCK_FILE = Path(tempfile.gettempdir()) / "proclient-pcscd.lock"
READER_NAME = "proclient vpcd"  # pcscd names the two slots "proclient vpcd 00 00" and "… 00 01"
PATIENT_READER = f"{READER_NAME} 00 00"
PROFESSIONAL_READER = f"{READER_NAME} 00 01"
BASE_PORT = 35963  # vpcd's default: the patient slot; the professional slot is the next port
SLOTS = 2  # Debian's vpcd is built with two slots: BASE_PORT and BASE_PORT + 1
SHIM_SOURCE = Path(__file__).with_name("vpcd_loopback.c")
LOCK_TIMEOUT = 600.0  # a whole test run may hold pcscd


class Unavailable(Exception):
    """pcscd cannot run here; the message says why (shown as the tests' skip reason)."""


def check_tools() -> None:
    if shutil.which("pcscd") is None:
        raise Unavailable("pcscd is not installed (Debian package pcscd)")
    if not DRIVER.exists():
        raise Unavailable(f"the vpcd driver {DRIVER} is missing (Debian package vsmartcard-vpcd)")
    if os.geteuid() != 0 and not os.access(SOCKET.parent, os.W_OK):
        raise Unavailable("pcscd needs root to create /run/pcscd")
    if _compiler() is None:
        raise Unavailable("gcc is missing: it builds the shim that keeps vpcd on loopback")


def acquire_lock(timeout: float = LOCK_TIMEOUT):
    """The machine-wide pcscd lock (an open file holding flock), waiting up to ``timeout``."""
    lock = open(LOCK_FILE, "a+")  # noqa: SIM115 (the caller holds it)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                raise Unavailable("another test run holds pcscd for too long") from None
            time.sleep(0.5)


def _compiler() -> str | None:
    return shutil.which("gcc") or shutil.which("cc")


def build_shim(directory: Path) -> Path:
    """vpcd_loopback.c built into ``directory`` (kept while it is newer than the source)."""
    library = directory / "vpcd_loopback.so"
    if library.exists() and library.stat().st_mtime >= SHIM_SOURCE.stat().st_mtime:
        return library
    compiler = _compiler()
    if compiler is None:
        raise Unavailable("gcc is missing: it builds the shim that keeps vpcd on loopback")
    built = subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM_SOURCE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if built.returncode != 0:
        raise Unavailable(f"the vpcd loopback shim did not build: {built.stderr.strip()[-500:]}")
    return library


def write_config(directory: Path, port: int = BASE_PORT) -> Path:
    """A reader.conf.d holding only our vpcd reader; ``DEVICENAME /dev/null:PORT`` makes vpcd
    listen on PORT (patient slot) and PORT+1 (professional slot), as in vpcd's example."""
    conf = directory / "reader.conf.d"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "proclient-vpcd").write_text(
        f'FRIENDLYNAME "{READER_NAME}"\n'
        f"DEVICENAME   /dev/null:0x{port:04X}\n"
        f"LIBPATH      {DRIVER}\n"
        f"CHANNELID    0x{port:04X}\n",
        encoding="ascii",
    )
    return conf


def running_pid() -> int | None:
    """The pid of the running pcscd per its pid file, or None."""
    try:
        # pcscd pads its pid file with NUL bytes.
        pid = int(PID_FILE.read_bytes().strip(b"\0 \n"))
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def stop(pid: int | None = None, timeout: float = 5.0) -> None:
    """Stop pcscd (``pid``, or the one in the pid file) and wait until it is gone."""
    pid = pid or running_pid()
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)
    # pcscd removes them on a clean exit; a killed one leaves them and the next start refuses.
    for leftover in (SOCKET, PID_FILE):
        try:
            leftover.unlink()
        except FileNotFoundError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def start(directory: Path, port: int = BASE_PORT, timeout: float = 10.0) -> int:
    """Start pcscd in the foreground (under setsid, in the background) with our reader only,
    its vpcd slots on loopback. Returns its pid once its socket and the vpcd ports listen."""
    check_tools()
    directory.mkdir(parents=True, exist_ok=True)
    shim = build_shim(directory)
    stop()
    conf = write_config(directory, port)
    log = open(directory / "pcscd.log", "ab")  # noqa: SIM115 (the daemon keeps it)
    process = subprocess.Popen(
        ["pcscd", "--foreground", "--error", "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env={**os.environ, "LD_PRELOAD": str(shim)},
        start_new_session=True,  # setsid: Ctrl+C in a terminal does not reach the daemon
    )
    log.close()
    ports = range(port, port + SLOTS)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = (directory / "pcscd.log").read_text(errors="replace")[-500:]
            raise Unavailable(f"pcscd exited at start ({process.returncode}): {text.strip()}")
        if SOCKET.exists() and all(_port_open(each) for each in ports):
            if not all(on_loopback_only(each) for each in ports):
                stop(process.pid)
                raise Unavailable("vpcd listens beyond loopback despite the shim: pcscd stopped")
            return process.pid
        time.sleep(0.05)
    stop(process.pid)
    raise Unavailable("pcscd did not open its socket in time")


def listening_addresses(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses of the TCP sockets listening on ``port``, read from /proc/net/tcp
    (and tcp6): a probe connection would insert an empty card."""
    found = []
    suffix = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                for line in lines:
                    fields = line.split()
                    if len(fields) > 3 and fields[1].endswith(suffix) and fields[3] == "0A":
                        found.append(_address(fields[1].rsplit(":", 1)[0]))
        except OSError:
            continue
    return found


def _address(hexadecimal: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net/tcp writes it: 32-bit words, each in the host's byte order."""
    raw = bytes.fromhex(hexadecimal)
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(raw)


def _port_open(port: int) -> bool:
    return bool(listening_addresses(port))


def on_loopback_only(port: int = BASE_PORT) -> bool:
    """Whether something listens on ``port``, and only on loopback addresses."""
    addresses = listening_addresses(port)
    return bool(addresses) and all(address.is_loopback for address in addresses)


def ours(directory: Path, pid: int | None = None) -> bool:
    """Whether the running pcscd (or ``pid``) was started with the configuration in
    ``directory`` (its command line holds ``-c DIRECTORY/reader.conf.d``)."""
    pid = pid or running_pid()
    if pid is None:
        return False
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return os.fsencode(str(directory / "reader.conf.d")) in arguments


def stop_ours(directory: Path) -> bool:
    """Stop the running pcscd if it is the one started with ``directory``; True if stopped."""
    pid = running_pid()
    if pid is None or not ours(directory, pid):
        return False
    stop(pid)
    return True


def main(argv: list[str]) -> int:
    """``start [DIR]``: our pcscd (prints its pid); ``stop``: any pcscd; ``stop-ours DIR``: the
    pcscd started with DIR, if it still runs. Each waits for the lock that test runs hold."""
    command = argv[1] if len(argv) > 1 else ""
    if command not in ("start", "stop", "stop-ours") or (command == "stop-ours" and len(argv) < 3):
        print("usage: pcscd_control.py start [DIR] | stop | stop-ours DIR", file=sys.stderr)
        return 2
    try:
        lock = acquire_lock()
    except Unavailable as error:
        print(f"pcscd: {error}", file=sys.stderr)
        return 1
    with lock:
        if command == "start":
            directory = Path(argv[2]) if len(argv) > 2 else Path(tempfile.mkdtemp(prefix="pcscd-"))
            try:
                pid = start(directory)
            except Unavailable as error:
                print(f"pcscd: {error}", file=sys.stderr)
                return 1
            print(pid)
        elif command == "stop":
            stop()
        else:
            stop_ours(Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
