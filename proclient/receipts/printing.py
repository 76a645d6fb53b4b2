"""Printing through CUPS with ``lp``: the PDF goes on standard input, so a secrets sheet
never touches the disk on its way to the printer (CUPS' own spool aside: a real installation
must run CUPS with ``PreserveJobFiles No``, see docs/workstation.md).

Which printer: the one named in the settings (``[printer] name``), else ``LPDEST``, else
``PRINTER``, else the CUPS default destination. CUPS' messages are read in the C locale and
turned into one French sentence naming the fix; they are never shown or logged as such.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from proclient.core.domain import DomainError
from proclient.core.i18n import _

_JOB_ID = re.compile(r"request id is (\S+)")
_PRINTER_LINE = re.compile(r"^printer (\S+) (?:is )?(\S+)")
_DEFAULT_LINE = re.compile(r"^system default destination: (\S+)")
_TIMEOUT = 30

# What CUPS' command-line tools say (C locale), mapped to the fix the user can make.
_NOT_RUNNING = (
    "scheduler not responding",
    "unable to connect",
    "scheduler is not running",
    "connection refused",
    "no such file or directory",
)
_NO_DEFAULT = ("no default destination",)
_UNKNOWN = ("does not exist", "unknown printer", "invalid destination")
_REFUSING = ("not accepting jobs",)


@dataclass(frozen=True)
class Printer:
    """A CUPS queue as ``lpstat`` reports it."""

    name: str
    state: str  # "idle", "printing", "disabled"…
    default: bool = False


def printer_choice(configured: str | None = None) -> str | None:
    """The printer to use: settings, then LPDEST, then PRINTER; None means the CUPS default."""
    return configured or os.environ.get("LPDEST") or os.environ.get("PRINTER") or None


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DomainError(
            "PRINTER_MISSING",
            _(
                "Le système d'impression CUPS n'est pas installé : installez le paquet cups, "
                "ou conservez l'accusé enregistré."
            ),
        )
    return path


def _run(command: list[str], data: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        return subprocess.run(
            command, input=data, capture_output=True, timeout=_TIMEOUT, check=False, env=env
        )
    except (OSError, subprocess.TimeoutExpired):
        raise DomainError(
            "PRINTER_UNAVAILABLE",
            _("CUPS ne répond pas : vérifiez que le service d'impression est démarré."),
        ) from None


def _error(stderr: bytes, printer: str | None) -> DomainError:
    said = stderr.decode("utf-8", "replace").casefold()
    if any(words in said for words in _UNKNOWN):
        return DomainError(
            "PRINTER_UNKNOWN",
            _(
                "L'imprimante « {name} » n'existe pas dans CUPS : choisissez-en une autre dans les "
                "réglages ([printer] name, voir « proclient receipts printers »).",
                name=printer or "?",
            ),
        )
    if any(words in said for words in _NO_DEFAULT):
        return DomainError(
            "PRINTER_NO_DEFAULT",
            _(
                "Aucune imprimante n'est choisie : indiquez-la dans les réglages ([printer] name) "
                "ou définissez une imprimante par défaut dans CUPS."
            ),
        )
    if any(words in said for words in _REFUSING):
        return DomainError(
            "PRINTER_REFUSING",
            _(
                "L'imprimante « {name} » refuse les travaux : réactivez-la (cupsenable, "
                "cupsaccept) puis réessayez.",
                name=printer or "?",
            ),
        )
    if any(words in said for words in _NOT_RUNNING):
        return DomainError(
            "PRINTER_UNAVAILABLE",
            _("CUPS ne répond pas : vérifiez que le service d'impression est démarré."),
        )
    return DomainError(
        "PRINTER_FAILED",
        _(
            "L'imprimante a refusé le document : vérifiez qu'elle est réglée et allumée "
            "(lpstat -p)."
        ),
    )


def list_printers() -> list[Printer]:
    """The CUPS queues, the default one marked. Empty when CUPS has none."""
    lpstat = _tool("lpstat")
    done = _run([lpstat, "-p"])
    out = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0 and not out.strip():
        said = done.stderr.decode("utf-8", "replace").casefold()
        if "no destinations added" in said:
            return []
        raise _error(done.stderr, None)
    default = _run([lpstat, "-d"]).stdout.decode("utf-8", "replace")
    match = _DEFAULT_LINE.search(default)
    default_name = match.group(1) if match else None
    printers = []
    for line in out.splitlines():
        found = _PRINTER_LINE.match(line)
        if found:
            state = found.group(2).rstrip(".")
            printers.append(Printer(found.group(1), state, found.group(1) == default_name))
    return printers


def print_pdf(
    pdf: bytes, printer: str | None = None, title: str = "proclient", copies: int = 1
) -> str:
    """Send ``pdf`` to ``printer`` (see :func:`printer_choice`) on lp's standard input and
    return the CUPS job id. The title is generic on purpose: CUPS keeps job titles."""
    lp = _tool("lp")
    printer = printer_choice(printer)
    command = [lp, "-t", title, "-n", str(max(1, copies))]
    if printer:
        command += ["-d", printer]
    done = _run(command, pdf)
    if done.returncode != 0:
        if not scheduler_running():  # lp then says "printer does not exist": misleading
            raise _error(b"scheduler is not running", printer)
        raise _error(done.stderr, printer)
    match = _JOB_ID.search(done.stdout.decode("utf-8", "replace"))
    return match.group(1) if match else ""


def scheduler_running() -> bool:
    """True when the CUPS scheduler answers (``lpstat -r``)."""
    lpstat = shutil.which("lpstat")
    if lpstat is None:
        return False
    said = _run([lpstat, "-r"]).stdout.decode("utf-8", "replace")
    return "scheduler is running" in said


def job_done(job_id: str) -> bool:
    """True once CUPS lists ``job_id`` among the completed (or ended) jobs."""
    lpstat = _tool("lpstat")
    pending = _run([lpstat, "-o"]).stdout.decode("utf-8", "replace").split()
    if job_id in pending:
        return False
    ended = _run([lpstat, "-W", "completed", "-o"]).stdout.decode("utf-8", "replace").split()
    return job_id in ended
