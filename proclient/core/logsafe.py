"""Logging unexpected errors without health data.

An exception's message may quote what it was given (a name, a NIR, a token), so only its type
and the traceback's frames (file, line, source) are written, never its text.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
import sys
import traceback
from pathlib import Path

from proclient.core.i18n import N_

# What the user reads when something unexpected failed (pass it through `_()`).
UNEXPECTED = N_(
    "Erreur inattendue : l'opération n'a pas abouti. Le détail technique est dans le journal."
)


def log_unexpected(logger: logging.Logger, what: str, error: BaseException | None = None) -> None:
    """Log ``error`` (by default the exception being handled) as ``what``: its type and where
    it happened, never its text (it may hold health data)."""
    error = error if error is not None else sys.exc_info()[1]
    if error is None:
        logger.error("%s", what)
        return
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error("%s: %s\n%s", what, type(error).__qualname__, frames.rstrip())


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file readable by its owner only (0600), the old ones too.

    The log holds no health data by design, but it names professionals and DMP ids and says
    when the workstation worked: nobody else on the machine reads it. A file left 0644 by an
    earlier version is tightened when opened."""

    _regular = True

    def _open(self):  # type: ignore[override]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        self._regular = stat.S_ISREG(os.fstat(fd).st_mode)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        """Python's own checks that the file is a regular one at every record (two ``stat``
        calls, ~5 % of the service's CPU per creation); here once, when it is opened."""
        if self.stream is None:
            self.stream = self._open()
        if self.maxBytes <= 0 or not self._regular:
            return False
        self.stream.seek(0, 2)  # the size at the end, as Python reads it (another writer)
        return self.stream.tell() + len(self.format(record)) + 1 >= self.maxBytes


def private_log_handler(
    path: Path, max_bytes: int = 1_000_000, backups: int = 5
) -> logging.Handler:
    """The workstation's log file: ``path`` (0600) rotated at ``max_bytes``, ``backups`` kept,
    in a directory only its owner may enter."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return PrivateRotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=False
    )
