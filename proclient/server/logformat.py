"""``[server] log_format = "json"``: the console log as one JSON object per line, for a log
collector (journald, Fluent Bit, Vector, Promtail…).

Each line holds ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``process``
(the pid: with several workers, which one wrote it) and ``message``, the same sentence the text
format writes (uvicorn's access lines included: client address, method, path, status). No
other field is added from the request. A record carrying an exception adds ``exception``: its
type and the traceback's frames, never its text, which may quote what it was given
(:func:`proclient.core.logsafe.log_unexpected` does the same).
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            frames = "".join(traceback.format_tb(error.__traceback__)).rstrip()
            entry["exception"] = f"{type(error).__qualname__}\n{frames}"
        return json.dumps(entry, ensure_ascii=False)
