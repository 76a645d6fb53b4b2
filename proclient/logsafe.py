"""Logging unexpected errors without health data.

An exception's message may quote what it was given (a name, a NIR, a token), so only its type
and the traceback's frames (file, line, source) are written, never its text.
"""

from __future__ import annotations

import logging
import sys
import traceback

# What the user reads when something unexpected failed (pass it through `_()`).
UNEXPECTED = (
    "Erreur inattendue : l'opération n'a pas abouti. Le détail technique est dans le journal."
)


def log_unexpected(logger: logging.Logger, what: str) -> None:
    """Log the exception being handled as ``what``: its type and where it happened."""
    error = sys.exc_info()[1]
    if error is None:
        logger.error("%s", what)
        return
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error("%s: %s\n%s", what, type(error).__qualname__, frames.rstrip())
