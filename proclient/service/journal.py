"""Idempotency keys kept on disk until the service's answer has been received.

A write's Idempotency-Key is saved (and fsynced) *before* the request leaves. If the
workstation dies after the service committed but before the answer arrived, the same request
made again after the restart finds its key here and is sent with it: the service replays the
first answer (saying the initial password was already issued) instead of creating twice.

Nothing here names the patient: an entry's file name is an HMAC of the request under a
secret that never leaves this folder, and its content is the key (a random UUID).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import time
import uuid
from pathlib import Path

from proclient.core.fileutil import write_private
from proclient.core.records import CreationRequest

MAX_AGE = 7 * 24 * 3600  # an unanswered request older than this is a new one


class IdempotencyJournal:
    """Pending writes' keys in ``directory`` (created mode 700)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret_path = self.directory / "secret"
        try:
            self._secret = secret_path.read_bytes()
        except FileNotFoundError:
            self._secret = b""
        if len(self._secret) != 32:
            self._secret = secrets.token_bytes(32)
            write_private(secret_path, self._secret)

    def _entry(self, request: CreationRequest) -> Path:
        from proclient.service.client import creation_body

        canonical = json.dumps(
            {"action": request.action.value, "body": creation_body(request)},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        name = hmac.new(self._secret, canonical.encode(), hashlib.sha256).hexdigest()[:40]
        return self.directory / f"{name}.key"

    def key_for(self, request: CreationRequest) -> str:
        """The key this request was first sent with, or a new one, saved before returning."""
        entry = self._entry(request)
        with contextlib.suppress(OSError, ValueError):
            if time.time() - entry.stat().st_mtime < MAX_AGE:
                key = entry.read_text(encoding="ascii").strip()
                if key:
                    return str(uuid.UUID(key))
        key = str(uuid.uuid4())
        write_private(entry, key.encode("ascii"))
        return key

    def done(self, request: CreationRequest) -> None:
        """The answer arrived (or the service refused for good): forget the key."""
        with contextlib.suppress(FileNotFoundError):
            self._entry(request).unlink()

    def pending(self) -> int:
        """How many requests still wait for their answer."""
        return sum(1 for _ in self.directory.glob("*.key"))
