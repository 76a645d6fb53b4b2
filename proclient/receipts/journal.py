"""The journal of accusés: the saved PDFs themselves, plus a name-free index.

The receipts directory is the journal. Each saved accusé adds one line to ``journal.jsonl``
with what its file name cannot say: the operation (creation or reactivation), the page
format and the identity's RNIV status (qualifiée, récupérée). The index holds no name, no NIR
and no secret: the file name (date, time, DMP id or a random token) plus those three words. A
PDF without an index line (copied in, or saved by an older version) is still listed from its
file name; a line written before the status was recorded reads as status unknown. Reprinting sends the saved bytes again:
the accusé never carries the login or the password, so a reprint cannot leak them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.core.identity import IdentityStatus

INDEX_NAME = "journal.jsonl"
_FILE = re.compile(r"accuse-(\d{8})-(\d{6})-([A-Za-z0-9_-]*)\.pdf")
_ACTIONS = ("creation", "reactivation")
_PAGES = ("a4", "80mm")
_STATUSES = frozenset(status.value for status in IdentityStatus)


@dataclass(frozen=True)
class JournalEntry:
    """One saved accusé: what can be shown without opening it."""

    number: int  # 1 = the most recent, as `proclient receipts list` shows it
    path: Path
    at: datetime  # Paris wall-clock time, naive (as in the file name)
    dmp_id: str  # "" when the file name carries a random token instead
    action: str | None  # "creation", "reactivation", or None when unknown
    page: str | None  # "a4", "80mm", or None when unknown
    status: str | None = None  # the RNIV status ("qualifiee", "recuperee"…), None when unknown

    @property
    def action_label(self) -> str:
        if self.action == "reactivation":
            return _("réactivation")
        if self.action == "creation":
            return _("création")
        return _("accusé")

    @property
    def page_label(self) -> str:
        return {"a4": "A4", "80mm": "80 mm"}.get(self.page or "", "?")

    @property
    def status_label(self) -> str:
        """The identity's status in French ("qualifiée"), "?" when the entry does not say."""
        return IdentityStatus(self.status).label if self.status in _STATUSES else "?"


def record(
    directory: Path, filename: str, action: str, page: str, status: str | None = None
) -> None:
    """Append one name-free line for ``filename`` to the index (private, append-only):
    the operation, the page format and the identity's status (when the request had one)."""
    item = {"file": filename, "action": action, "page": page}
    if status is not None:
        item["status"] = status
    line = json.dumps(item) + "\n"
    fd = os.open(Path(directory) / INDEX_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def _index(directory: Path) -> dict[str, dict]:
    known: dict[str, dict] = {}
    with contextlib.suppress(FileNotFoundError):
        for line in (directory / INDEX_NAME).read_text("utf-8", "replace").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue  # a torn line (power cut mid-append) costs that line only
            if isinstance(item, dict) and isinstance(item.get("file"), str):
                known[item["file"]] = item
    return known


def entries(directory: Path) -> list[JournalEntry]:
    """Every saved accusé in ``directory``, the most recent first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    known = _index(directory)
    found = []
    for path in directory.glob("accuse-*.pdf"):
        match = _FILE.fullmatch(path.name)
        if not match:
            continue
        try:
            at = datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
        except ValueError:
            continue
        dmp_id = match.group(3)
        if re.fullmatch(r"x[0-9a-f]{8}", dmp_id):
            dmp_id = ""  # a random token, not the DMP id
        item = known.get(path.name, {})
        action = item.get("action") if item.get("action") in _ACTIONS else None
        page = item.get("page") if item.get("page") in _PAGES else None
        status = item.get("status") if item.get("status") in _STATUSES else None
        found.append((at, path.name, path, dmp_id, action, page, status))
    found.sort(reverse=True)
    return [
        JournalEntry(number, path, at, dmp_id, action, page, status)
        for number, (at, _name, path, dmp_id, action, page, status) in enumerate(found, start=1)
    ]


def find(directory: Path, wanted: str) -> JournalEntry:
    """The entry named by its number in the list, its DMP id or its file name."""
    wanted = wanted.strip()
    listed = entries(directory)
    for entry in listed:
        if wanted in (str(entry.number), entry.path.name, entry.path.stem) or (
            entry.dmp_id and wanted.casefold() == entry.dmp_id.casefold()
        ):
            return entry
    raise DomainError(
        "RECEIPT_NOT_FOUND",
        _(
            "Aucun accusé « {wanted} » dans le journal : « proclient receipts list » affiche les "
            "numéros.",
            wanted=wanted,
        ),
    )
