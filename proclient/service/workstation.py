"""The workstation's own secret: what binds an e-CPS session to this workstation.

An e-CPS sign-in ends in a session token that the DMP service binds to the workstation that
asked for it (Pro Santé Connect's own tokens never leave the service). The workstation proves
which one it is with a random secret made once, kept in its data folder (mode 600), and sent
in the ``Proclient-Workstation`` header with every request; the service keeps only its SHA-256.
A session token copied elsewhere (a log, a screen capture, another process's memory) is of
no use without this file.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from proclient.core.fileutil import write_private

HEADER = "Proclient-Workstation"
FILE_NAME = "workstation.key"
_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def workstation_secret(directory: Path) -> str:
    """The secret in ``directory/workstation.key``: made on the first call (43 url-safe
    characters, 256 bits), read afterwards; made again when the file is unreadable or
    malformed (the workstation's e-CPS sessions then end: a new sign-in is asked)."""
    path = Path(directory) / FILE_NAME
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        value = ""
    if _SHAPE.fullmatch(value):
        return value
    value = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, value.encode("ascii") + b"\n")
    return value
