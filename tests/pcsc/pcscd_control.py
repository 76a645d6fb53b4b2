"""Start, stop and restart a private pcscd with the vsmartcard vpcd driver (DOMAIN.md §3).

Used by the tests' fixtures (tests/pcsc/conftest.py) and by scripts/services/pcscd.sh
(``python tests/pcsc/pcscd_control.py start``), so that both start the daemon the same way.

pcscd's socket and pid file are fixed paths (/run/pcscd): there is one daemon per machine. An
already running one (a system pcscd, or ours from an earlier run) is stopped by the pid in its
pid file before ours starts; a lock file keeps two test runs from fighting over it.
"""

from __future__ import annotations

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


class Unavailable(Exception):
    """pcscd cannot run here; the message says why (shown as the tests' skip reason)."""


def check_tools() -> None:
    if shutil.which("pcscd") is None:
        raise Unavailable("pcscd is not installed (Debian package pcscd)")
    if not DRIVER.exists():
        raise Unavailable(f"the vpcd driver {DRIVER} is missing (Debian package vsmartcard-vpcd)")
    if os.geteuid() != 0 and not os.access(SOCKET.parent, os.W_OK):
        raise Unavailable("pcscd needs root to create /run/pcscd")


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
    """Start pcscd in the foreground (under setsid, in the background) with our reader only.
    Returns its pid once its socket and the vpcd ports accept connections."""
    check_tools()
    stop()
    conf = write_config(directory, port)
    log = open(directory / "pcscd.log", "ab")  # noqa: SIM115 (the daemon keeps it)
    process = subprocess.Popen(
        ["pcscd", "--foreground", "--error", "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,  # setsid: Ctrl+C in a terminal does not reach the daemon
    )
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = (directory / "pcscd.log").read_text(errors="replace")[-500:]
            raise Unavailable(f"pcscd exited at start ({process.returncode}): {text.strip()}")
        if SOCKET.exists() and _port_open(port):
            return process.pid
        time.sleep(0.05)
    stop(process.pid)
    raise Unavailable("pcscd did not open its socket in time")


def _port_open(port: int) -> bool:
    """Whether vpcd listens on ``port``, read from /proc/net/tcp: a probe connection would
    insert an empty card."""
    suffix = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                for line in lines:
                    fields = line.split()
                    if len(fields) > 3 and fields[1].endswith(suffix) and fields[3] == "0A":
                        return True
        except OSError:
            continue
    return False


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "start":
        directory = Path(argv[2]) if len(argv) > 2 else Path(tempfile.mkdtemp(prefix="pcscd-"))
        try:
            pid = start(directory)
        except Unavailable as error:
            print(f"pcscd: {error}", file=sys.stderr)
            return 1
        print(pid)
        return 0
    if command == "stop":
        stop()
        return 0
    print("usage: pcscd_control.py start [DIR] | stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
