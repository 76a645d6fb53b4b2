"""Private files written atomically, and an advisory lock between processes.

One way for everything proclient keeps on disk (demo keys and certificates, idempotency keys,
receipts): a reader sees the old file or the new one, never half of one; nobody but the user
can read it; and it survives a power cut once the call returns. Core: the standard library only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

PRIVATE_MODE = 0o600


def fsync_directory(directory: Path | str) -> None:
    """Make a rename in ``directory`` durable (POSIX); a no-op where directories cannot be
    opened (Windows)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path | str, data: bytes, *, mode: int = PRIVATE_MODE) -> None:
    """Replace ``path`` with ``data`` atomically, readable by the owner only (``mode``).

    A temporary file in the same directory (hidden, unique: two writers never share it) is
    written, flushed and fsynced, given ``mode``, then renamed over ``path``; the directory is
    fsynced so that the rename survives a power cut too. On any failure the temporary file is
    removed and ``path`` is left as it was."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    fsync_directory(path.parent)


STALE_TEMPORARY_SECONDS = 60.0


def sweep_stale_temporaries(
    directory: Path | str, *, older_than: float = STALE_TEMPORARY_SECONDS
) -> int:
    """Remove what :func:`write_private` left in ``directory`` when its process was killed
    mid-write (SIGKILL runs no clean-up): hidden ``.<name>.XXXX.tmp`` files older than
    ``older_than`` seconds (a younger one may be another process's write in progress).
    Returns how many were removed; a folder that does not exist has none."""
    import time

    removed = 0
    limit = time.time() - older_than
    try:
        candidates = list(Path(directory).glob(".*.tmp"))
    except OSError:
        return 0
    for path in candidates:
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
    return removed


@contextlib.contextmanager
def file_lock(path: Path | str) -> Iterator[None]:
    """Hold an exclusive advisory lock (flock) on ``path``, created mode 600 if needed, for
    the ``with`` block: two processes doing the same set-up (two demo terminals starting at
    once) take turns. Where flock does not exist (Windows) nothing is locked; the writes above
    stay atomic."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
