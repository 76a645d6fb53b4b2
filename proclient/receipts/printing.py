"""Printing through CUPS with ``lp``: the PDF goes on standard input, so a secrets sheet
never touches the disk on its way to the printer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from proclient.domain import DomainError
from proclient.i18n import _

_JOB_ID = re.compile(r"request id is (\S+)")


def print_pdf(pdf: bytes, printer: str | None = None, title: str = "proclient") -> str:
    """Send ``pdf`` to ``printer`` (else LPDEST/PRINTER, else the CUPS default); return the
    job id. The title is generic on purpose: CUPS keeps job titles in its history."""
    lp = shutil.which("lp")
    if lp is None:
        raise DomainError(
            "PRINTER_MISSING",
            _("Aucun système d'impression n'est installé (CUPS) : installez-le ou "
              "réglez une imprimante."),
        )
    command = [lp, "-t", title]
    printer = printer or os.environ.get("LPDEST") or os.environ.get("PRINTER")
    if printer:
        command += ["-d", printer]
    try:
        done = subprocess.run(command, input=pdf, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        raise DomainError(
            "PRINTER_FAILED", _("L'impression n'a pas pu être lancée : vérifiez l'imprimante.")
        ) from None
    if done.returncode != 0:
        raise DomainError(
            "PRINTER_FAILED",
            _("L'imprimante a refusé le document : vérifiez qu'elle est réglée et allumée "
              "(lpstat -p)."),
        )
    match = _JOB_ID.search(done.stdout.decode("utf-8", "replace"))
    return match.group(1) if match else ""
