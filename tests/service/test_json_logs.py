"""``[server] log_format = "json"`` (server/logformat.py): a real ``proclient serve`` writes its
log on stderr as one JSON object per line, uvicorn's access lines included, with the fields
time, level, logger, process and message only; with two workers, each worker's lines too.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from datetime import datetime

import httpx
import pytest

from proclient.server.logformat import JsonFormatter

from .serve_process import start_serve, wait_until

FIELDS = {"time", "level", "logger", "process", "message"}


def parse_lines(text: str) -> list[dict]:
    """Every line of ``text`` as a JSON object (a line that is not one fails the test)."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            entry = json.loads(line)
        except ValueError:
            pytest.fail(f"stderr line {number} is not JSON: {line!r}")
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


def check_entry(entry: dict) -> None:
    assert set(entry) == FIELDS or set(entry) == FIELDS | {"exception"}, entry
    assert datetime.fromisoformat(entry["time"]).utcoffset().total_seconds() == 0
    assert entry["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    assert isinstance(entry["process"], int) and isinstance(entry["message"], str)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_logs_one_json_object_per_line(tmp_path, demo_pki_cache, workers):
    serve = start_serve(
        tmp_path / "home",
        server={"log_format": "json"},
        workers=workers,
        pki_cache=demo_pki_cache,
    )
    try:
        with httpx.Client(base_url=serve.url, verify=serve.context) as http:
            assert http.get("/v1/health").status_code == 200
            assert http.get("/v1/nowhere").status_code == 404

        def both_logged() -> bool:
            text = serve.text()
            return '"GET /v1/health' in text and '"GET /v1/nowhere' in text

        wait_until(both_logged, "the access lines", 10)
    finally:
        status = serve.stop()
    assert status in (0, -signal.SIGTERM), serve.text()
    entries = parse_lines(serve.text())
    for entry in entries:
        check_entry(entry)
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    assert any('"GET /v1/nowhere HTTP/1.1" 404' in e["message"] for e in access), access
    started = [e for e in entries if e["message"] == "Application startup complete."]
    assert len({e["process"] for e in started}) == workers
    if workers > 1:  # the supervisor's lines too, and its workers' shutdown
        assert serve.process.pid in {e["process"] for e in entries}
        finished = [e for e in entries if e["message"] == "Application shutdown complete."]
        assert {e["process"] for e in finished} == {e["process"] for e in started}


def test_an_exception_is_logged_by_type_and_frames_never_its_text():
    """An exception's text may quote what it was given (a name, a NIR): not in the line."""
    given = " ".join(["DUPONT", "Jean", "152033523804587"])  # the frames show source lines
    try:
        raise ValueError(given)
    except ValueError:
        record = logging.LogRecord(
            "proclient.server", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    check_entry(entry)
    assert entry["message"] == "failed here"
    assert (
        entry["exception"].startswith("ValueError\n") and "test_json_logs.py" in entry["exception"]
    )
    assert "DUPONT" not in line and "152033523804587" not in line
