"""The service's audit journal on its database: appends chained, heads signed, verify, export.

Every audit line (storage.Storage.audit) goes through :meth:`Journal.append`, inside the
caller's transaction: it takes the next seq and the previous hash from the one-row
``audit_chain`` table with ``UPDATE … RETURNING`` and writes the new hash back before the
transaction commits. That row is the lock: on PostgreSQL the UPDATE holds its row lock until
commit, so appenders of every worker process queue on it and make one chain (a transaction that
rolls back gives its seq back, so seqs have no gap); on SQLite ``BEGIN IMMEDIATE`` already lets
one writer in at a time. An advisory lock would serialise as well, but it still needs a
``SELECT … ORDER BY seq DESC LIMIT 1`` for the previous hash; the head row is the same number of
statements, works alike on both dialects, and tells ``audit verify`` where the chain ended even
when nothing was signed since (benchmarks/journal_append.py measures it).

Every ``head_interval`` entries or ten minutes (``head_max_age``, counted per process), in the
appending transaction, and at the service's shutdown
(app.py's lifespan, each worker), the head (seq, hash, time) is signed with the service's
document-signing key and kept in ``audit_heads``. Nothing is signed without a signer (throw-away
apps).

The pure format and its verification are proclient/core/proof/journal.py. This module imports
no other server module (server/database.py calls :func:`chain_existing` at migration 8).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from proclient.core.fileutil import write_private
from proclient.core.proof.journal import (
    FIELDS,
    GENESIS,
    Entry,
    Head,
    entry_hash,
    head_payload,
    verify_journal,
)
from proclient.core.proof.verdict import Verdict

log = logging.getLogger(__name__)

DEFAULT_HEAD_INTERVAL = 100
DEFAULT_HEAD_MAX_AGE = 600.0  # seconds: a head at least every ten minutes of activity

# An export's files (read back by proclient/commands/verify_journal.py).
ENTRIES_FILE = "entries.jsonl"
HEADS_FILE = "heads.jsonl"
CERTIFICATES_FILE = "certificates.pem"

_COLUMNS = "seq, " + ", ".join(FIELDS) + ", prev_hash, hash, id"


class Signer(Protocol):
    """What signs the heads: server/signing_key.py's DocumentSigner."""

    key_id: str

    def sign(self, data: bytes) -> bytes: ...

    def all_certificates(self) -> list[x509.Certificate]: ...


def _now() -> datetime:
    return datetime.now(UTC)


def chain_existing(conn: Any) -> None:
    """Chain the rows an older release wrote, once, in id order; start ``audit_chain``."""
    previous, seq = GENESIS, 0
    rows = conn.execute(f"SELECT id, {', '.join(FIELDS)} FROM audit ORDER BY id").fetchall()  # noqa: S608
    for row in rows:
        seq += 1
        fields = dict(zip(FIELDS, row[1:], strict=True))
        digest = entry_hash(previous, {"seq": seq, **fields})
        conn.execute(
            "UPDATE audit SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?",
            (seq, previous, digest, row[0]),
        )
        previous = digest
    conn.execute("INSERT INTO audit_chain (id, seq, hash) VALUES (1, ?, ?)", (seq, previous))


def _entry(row: Sequence[Any]) -> Entry:
    return Entry(*row)


class Journal:
    """The chained audit trail of one database."""

    def __init__(
        self,
        signer: Signer | None = None,
        head_interval: int = DEFAULT_HEAD_INTERVAL,
        clock: Callable[[], datetime] = _now,
        head_max_age: float | None = DEFAULT_HEAD_MAX_AGE,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        """A head is signed every ``head_interval`` entries, and by the first append more
        than ``head_max_age`` seconds (None: never) after this process last signed one."""
        if head_interval < 1:
            raise ValueError("head_interval must be at least 1")
        self.signer = signer
        self.head_interval = head_interval
        self.clock = clock
        self.head_max_age = head_max_age
        self._ticks = ticks
        self._signed_at = ticks()

    # --- writing ----------------------------------------------------------------------------

    def append(self, conn: Any, fields: dict) -> int:
        """Chain one entry (``fields``: the :data:`FIELDS`) in the caller's transaction; its seq."""
        row = self._advance(conn)
        if row is None:
            # The head row is derived state: gone (a table emptied), it is rebuilt from the
            # last entry, and the chain goes on from there.
            last = conn.execute(
                "SELECT seq, hash FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            conn.execute(
                "INSERT INTO audit_chain (id, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                tuple(last) if last is not None else (0, GENESIS),
            )
            row = self._advance(conn)
        seq, previous = row
        values = [fields.get(name) for name in FIELDS]
        digest = entry_hash(previous, {"seq": seq, **fields})
        conn.execute(
            f"INSERT INTO audit ({', '.join(FIELDS)}, seq, prev_hash, hash) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, seq, previous, digest),
        )
        conn.execute("UPDATE audit_chain SET hash = ? WHERE id = 1", (digest,))
        if self.signer is not None and (seq % self.head_interval == 0 or self._stale()):
            self._sign(conn, seq, digest)
        return seq

    @staticmethod
    def _advance(conn: Any) -> Any:
        return conn.execute(
            "UPDATE audit_chain SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"
        ).fetchone()

    def _stale(self) -> bool:
        return self.head_max_age is not None and (
            self._ticks() - self._signed_at >= self.head_max_age
        )

    def _sign(self, conn: Any, seq: int, digest: str) -> Head:
        assert self.signer is not None
        self._signed_at = self._ticks()
        at = self.clock().astimezone(UTC).isoformat(timespec="seconds")
        key_id = self.signer.key_id
        signature = self.signer.sign(head_payload(seq, digest, at, key_id))
        conn.execute(
            "INSERT INTO audit_heads (seq, hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (seq) DO NOTHING",
            (seq, digest, at, key_id, signature),
        )
        return Head(seq, digest, at, key_id, signature)

    def sign_head(self, db: Any) -> Head | None:
        """Sign the chain's current head unless it is signed already (the service's shutdown);
        the head signed, or None (no signer, an empty journal, nothing new)."""
        if self.signer is None:
            return None
        with db.transaction() as conn:
            seq, digest = self.chain_head(conn)
            if seq == 0:
                return None
            signed = conn.execute("SELECT 1 FROM audit_heads WHERE seq = ?", (seq,)).fetchone()
            if signed is not None:
                return None
            return self._sign(conn, seq, digest)

    # --- reading ----------------------------------------------------------------------------

    @staticmethod
    def entries(conn: Any) -> Iterator[Entry]:
        """Every entry in seq order (those without a seq last), streamed."""
        cursor = conn.execute(
            f"SELECT {_COLUMNS} FROM audit "  # noqa: S608
            "ORDER BY CASE WHEN seq IS NULL THEN 1 ELSE 0 END, seq, id"
        )
        for row in cursor:
            yield _entry(row)

    @staticmethod
    def heads(conn: Any) -> list[Head]:
        rows = conn.execute(
            "SELECT seq, hash, at, key_id, signature FROM audit_heads ORDER BY seq"
        ).fetchall()
        return [Head(row[0], row[1], row[2], row[3], bytes(row[4])) for row in rows]

    @staticmethod
    def chain_head(conn: Any) -> tuple[int, str]:
        """(seq, hash) of ``audit_chain``: where the appends left the chain."""
        row = conn.execute("SELECT seq, hash FROM audit_chain WHERE id = 1").fetchone()
        return (row[0], row[1]) if row is not None else (0, GENESIS)

    def certificates(self, extra: Sequence[x509.Certificate] = ()) -> list[x509.Certificate]:
        """The signer's certificates, expired ones too (a head signed while its certificate
        was valid stays valid), then ``extra``."""
        found = list(self.signer.all_certificates()) if self.signer is not None else []
        return found + [certificate for certificate in extra if certificate not in found]

    def verify(self, db: Any, certificates: Sequence[x509.Certificate] = ()) -> Verdict:
        """The whole journal against its signed heads (core/proof/journal.py), then against
        ``audit_chain``: a tail cut after the last signed head, or lines appended by someone
        else than the service, still show there unless that row was rewritten too."""
        with db.read() as conn:
            # Heads and head row first: lines appended meanwhile only lengthen the entries
            # read after them (a read the other way round would see a head or a head row
            # beyond the last entry read, and call it a cut).
            chain_seq, chain_hash = self.chain_head(conn)
            heads = self.heads(conn)
            entries = list(self.entries(conn))
            # …and read again after them: every committed line moved the head row at least
            # to its seq, so a line beyond it was not written by the service.
            after_seq, _after_hash = self.chain_head(conn)
        verdict = verify_journal(entries, heads, self.certificates(certificates))
        if verdict.outcome != "valid":
            return verdict
        from proclient.core.i18n import _

        last = entries[-1] if entries else None
        last_seq = last.seq if last is not None else 0
        if chain_seq > (last_seq or 0):
            return Verdict(
                "altered",
                _(
                    "Journal altéré : il s'arrête à l'entrée {last} alors que le service en a "
                    "écrit {seq} ; la fin a été coupée.",
                    last=last_seq,
                    seq=chain_seq,
                ),
                {"problem": "cut", "entry": (last_seq or 0) + 1, "written": chain_seq},
            )
        if (last_seq or 0) > after_seq:
            return Verdict(
                "altered",
                _("Journal altéré : l'entrée {seq} a été insérée.", seq=after_seq + 1),
                {"problem": "inserted", "entry": after_seq + 1},
            )
        by_seq = {entry.seq: entry for entry in entries} if chain_seq else {}
        at_head = by_seq.get(chain_seq)
        if at_head is not None and chain_hash != at_head.hash:
            return Verdict(
                "altered",
                _("Journal altéré : l'entrée {seq} a été modifiée.", seq=chain_seq),
                {"problem": "edited", "entry": chain_seq},
            )
        return verdict

    # --- export -----------------------------------------------------------------------------

    def export(
        self, db: Any, directory: Path, certificates: Sequence[x509.Certificate] = ()
    ) -> tuple[int, int]:
        """Write the entries (JSON lines), the signed heads (JSON lines) and the service's
        certificates (PEM) into ``directory``, readable by its owner only (the entries name
        professionals); (entries, heads) written."""
        directory.mkdir(parents=True, exist_ok=True)
        count = 0
        lines: list[str] = []
        with db.read() as conn:
            heads = self.heads(conn)  # first: see verify()
            for entry in self.entries(conn):
                lines.append(json.dumps(entry.to_json(), ensure_ascii=False, sort_keys=True))
                count += 1
        write_private(directory / ENTRIES_FILE, "".join(line + "\n" for line in lines).encode())
        head_lines = "".join(json.dumps(head.to_json(), sort_keys=True) + "\n" for head in heads)
        write_private(directory / HEADS_FILE, head_lines.encode())
        pem = b"".join(
            certificate.public_bytes(serialization.Encoding.PEM)
            for certificate in self.certificates(certificates)
        )
        write_private(directory / CERTIFICATES_FILE, pem)
        return count, len(heads)
