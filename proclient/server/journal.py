"""The service's audit journal on its database: appends, chaining, signed heads, verify, export.

**Append, then chain** (as certificate transparency logs do: Trillian queues leaves, then its
sequencer integrates them in batches). Every audit line (storage.Storage.audit) is one plain
``INSERT`` in the caller's transaction, carrying a MAC (HMAC-SHA256 over the entry's fields,
with a key derived from the service's pseudonymisation key, kept off the database), and no seq
yet. :meth:`Journal.seal`, run by each worker a fraction of a second after it appended
(app.py's sealer) and at shutdown, chains the waiting lines in one transaction: it takes the
chain's lock, reads them in id order, checks each MAC, gives each the next seq, the hash
before it and its own, moves the one-row head ``audit_chain`` and signs heads that are due.
A line whose MAC is wrong was not written by the service: it is never chained, and ``audit
verify`` names it as inserted or edited.

Why not chain in the appending transaction (what issue 23's first release did): the head
row's lock is then held from the append to the commit, so every creation of every worker
waits on it, two more round trips per line; creations/s fell 13 % and the service's CPU per
creation rose 17-22 % (benchmarks/README.md). Chained in batches, an audit line costs what it
cost before the journal plus a MAC, and the chain a few statements per batch.

What it changes for the proof: nothing against someone who can write to the database, who
could already rewrite every entry after the last signed head and its hashes; entries stay
unchained a fraction of a second after their transaction commits, their MAC covering them
meanwhile, so an edited waiting line is found as well. (A seal does not see a line whose
transaction has not committed yet: the sealer keeps sealing ``RECENT_APPEND`` seconds after
the last append, and seals at least every ``IDLE_SEAL`` seconds.) With several workers on PostgreSQL one seals at
a time (the head row locked ``FOR UPDATE SKIP LOCKED``: not waited for, as another worker's
seal takes this one's lines too); on SQLite ``BEGIN IMMEDIATE`` lets one writer in at a time. A
kill -9 mid-seal rolls the batch back: the lines wait for the next seal (at the next start
at the latest).

Every ``head_interval`` entries or ten minutes (``head_max_age``, counted per process), in the
sealing transaction, and at the service's shutdown (app.py's lifespan, each worker), the head
(seq, hash, time) is signed with the service's document-signing key and kept in
``audit_heads``. Nothing is signed without a signer (throw-away apps).

The pure format and its verification are proclient/core/proof/journal.py. This module imports
no other server module (server/database.py calls :func:`chain_existing` at migration 8).
"""

from __future__ import annotations

import hashlib
import hmac
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
    CERTIFICATES_FILE,
    ENTRIES_FILE,
    FIELDS,
    GENESIS,
    HEADS_FILE,
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
SEAL_INTERVAL = 0.2  # seconds between an append and the seal that chains it (app.py)
SEAL_BATCH = 1000  # lines chained per sealing transaction
RECENT_APPEND = 5.0  # seconds after an append during which the sealer keeps sealing
IDLE_SEAL = 30.0  # seconds: a seal at least this often, appended or not
SEAL_BACKOFF_MAX = 5.0  # seconds between seals while they fail (the database out of reach)
JOURNAL_MAC_PURPOSE = "audit-journal-mac"  # the MAC key's HKDF purpose (Storage.derived_key)


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


class Journal:
    """The chained audit trail of one database."""

    def __init__(
        self,
        signer: Signer | None = None,
        head_interval: int = DEFAULT_HEAD_INTERVAL,
        clock: Callable[[], datetime] = _now,
        head_max_age: float | None = DEFAULT_HEAD_MAX_AGE,
        ticks: Callable[[], float] = time.monotonic,
        mac_key: bytes | None = None,
    ) -> None:
        """A head is signed every ``head_interval`` entries, and by the first seal more than
        ``head_max_age`` seconds (None: never) after this process last signed one. Without
        ``mac_key`` (throw-away apps) lines carry no MAC and every waiting line is chained."""
        if head_interval < 1:
            raise ValueError("head_interval must be at least 1")
        self.signer = signer
        self.head_interval = head_interval
        self.clock = clock
        self.head_max_age = head_max_age
        self.mac_key = mac_key
        self._ticks = ticks
        self._signed_at = ticks()
        self.waiting = True  # lines may wait for a seal (this process appended, or a restart)
        self._appended_at = self._sealed_at = ticks()

    # --- writing ----------------------------------------------------------------------------

    def append(self, conn: Any, fields: dict) -> None:
        """Write one entry (``fields``: the :data:`FIELDS`) in the caller's transaction, with
        its MAC; :meth:`seal` chains it."""
        conn.execute(
            f"INSERT INTO audit ({', '.join(FIELDS)}, mac) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (*(fields.get(name) for name in FIELDS), self.mac(fields)),
        )
        self.waiting = True
        self._appended_at = self._ticks()

    def due(self) -> bool:
        """Whether :func:`keep_sealed` should seal now: a line was appended since the last
        seal; or one was appended lately, whose transaction may not have committed when the
        last seal read (PostgreSQL: a seal does not see it, nor wait for it); or no seal for
        a while (another process's lines, left by a kill)."""
        now = self._ticks()
        return (
            self.waiting
            or now - self._appended_at < RECENT_APPEND
            or now - self._sealed_at >= IDLE_SEAL
        )

    def mac(self, fields: dict) -> str | None:
        """The MAC a line is written with (None without a key)."""
        if self.mac_key is None:
            return None
        # The fields in FIELDS order, as a JSON array: unambiguous, and cheaper than the
        # chain's canonical (sorted) form; what the MAC covers never leaves the service.
        text = json.dumps([fields.get(name) for name in FIELDS], ensure_ascii=False)
        return hmac.new(self.mac_key, text.encode(), hashlib.sha256).hexdigest()

    def authentic(self, fields: dict, mac: str | None) -> bool:
        """Whether a waiting line was written by the service (always, without a key)."""
        if self.mac_key is None:
            return True
        return mac is not None and hmac.compare_digest(mac, self.mac(fields) or "")

    def seal(self, db: Any) -> int:
        """Chain the lines waiting, oldest first, :data:`SEAL_BATCH` per transaction; how
        many. 0 also when another process is sealing (it chains them)."""
        sealed, after = 0, 0
        self._sealed_at = self._ticks()
        while True:
            self.waiting = False  # before reading: a line appended meanwhile sets it again
            with db.transaction() as conn:
                head = self._lock_head(conn)
                if head is None:
                    self.waiting = True  # the other seal may have started before our lines
                    return sealed
                rows = conn.execute(
                    f"SELECT id, {', '.join(FIELDS)}, mac FROM audit "  # noqa: S608
                    "WHERE seq IS NULL AND id > ? ORDER BY id LIMIT ?",
                    (after, SEAL_BATCH),
                ).fetchall()
                sealed += self._chain(conn, head, rows)
            if len(rows) < SEAL_BATCH:
                return sealed
            after = rows[-1][0]

    def _lock_head(self, conn: Any) -> tuple[int, str] | None:
        """(seq, hash) of the chain's head, locked for this transaction; None when another
        process holds it (PostgreSQL; SQLite's BEGIN IMMEDIATE already waited)."""
        if conn.dialect == "postgresql":
            head = conn.execute(
                "SELECT seq, hash FROM audit_chain WHERE id = 1 FOR UPDATE SKIP LOCKED"
            ).fetchone()
            if head is None and conn.execute("SELECT 1 FROM audit_chain").fetchone():
                return None  # the row is there, locked by another seal
        else:
            head = conn.execute("SELECT seq, hash FROM audit_chain WHERE id = 1").fetchone()
        if head is None:
            # The head row is derived state: gone (a table emptied), it is rebuilt from the
            # last chained entry, and the chain goes on from there.
            last = conn.execute(
                "SELECT seq, hash FROM audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            conn.execute(
                "INSERT INTO audit_chain (id, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                tuple(last) if last is not None else (0, GENESIS),
            )
            # Read it back under the lock: another seal may have rebuilt it meanwhile.
            return self._lock_head(conn)
        return head[0], head[1]

    def _chain(self, conn: Any, head: tuple[int, str], rows: Sequence[Any]) -> int:
        seq, previous = head
        updates: list[tuple] = []
        to_sign: list[tuple[int, str]] = []
        for row in rows:
            fields = dict(zip(FIELDS, row[1:-1], strict=True))
            if not self.authentic(fields, row[-1]):
                # Not the service's line: left unchained, for audit verify to name.
                log.warning("audit journal: line %s has no valid MAC, not chained", row[0])
                continue
            seq += 1
            digest = entry_hash(previous, {"seq": seq, **fields})
            updates.append((seq, previous, digest, row[0]))
            if seq % self.head_interval == 0:
                to_sign.append((seq, digest))
            previous = digest
        if not updates:
            return 0
        if conn.dialect == "postgresql":
            # One statement for the batch, of one text whatever its size (psycopg parses and
            # prepares a statement text once): four arrays, unnested.
            conn.execute(
                "UPDATE audit SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
                "FROM unnest(?::bigint[], ?::text[], ?::text[], ?::bigint[]) "
                "AS v (seq, prev_hash, hash, id) WHERE audit.id = v.id",
                [list(column) for column in zip(*updates, strict=True)],
            )
        else:  # in-process: no round trip to save
            conn.executemany(
                "UPDATE audit SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?", updates
            )
        conn.execute("UPDATE audit_chain SET seq = ?, hash = ? WHERE id = 1", (seq, previous))
        if self.signer is not None:
            if not to_sign and self._stale():
                to_sign.append((seq, previous))
            for signed_seq, digest in to_sign:
                self._sign(conn, signed_seq, digest)
        return len(updates)

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
        """Every chained entry in seq order, streamed (the lines waiting: :meth:`_waiting`)."""
        cursor = conn.execute(
            f"SELECT {_COLUMNS} FROM audit WHERE seq IS NOT NULL ORDER BY seq"  # noqa: S608
        )
        for row in cursor:
            yield Entry(*row)

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
            waiting = self._waiting(conn)
            # …and read again after them: every seal moves the head row to its last seq, so
            # a line beyond it was not chained by the service.
            after_seq, _after_hash = self.chain_head(conn)
        from proclient.core.i18n import _

        # Lines not chained yet: the service's (their MAC holds) wait for the next seal;
        # the others were inserted (no MAC), or edited while they waited.
        forged = [(entry, mac) for entry, mac in waiting if not self.authentic(entry.fields(), mac)]
        edited = [entry for entry, mac in forged if mac is not None]
        inserted = [entry for entry, mac in forged if mac is None]
        verdict = verify_journal([*entries, *inserted], heads, self.certificates(certificates))
        if verdict.outcome != "valid":
            return verdict
        if edited:
            return Verdict(
                "altered",
                _(
                    "Journal altéré : l'entrée en attente de chaînage (ligne {row}) a été "
                    "modifiée.",
                    row=edited[0].row_id,
                ),
                {"problem": "edited", "entry": None, "row": edited[0].row_id},
            )

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
        if waiting:
            return Verdict(
                verdict.outcome,
                verdict.sentence
                + " "
                + (
                    _(
                        "{count} entrée(s) récente(s) en attente de chaînage, d'origine vérifiée.",
                        count=len(waiting),
                    )
                    if self.mac_key is not None
                    else _(
                        "{count} entrée(s) récente(s) en attente de chaînage, d'origine "
                        "invérifiable sans la clé du service.",
                        count=len(waiting),
                    )
                ),
                {**verdict.details, "waiting": len(waiting)},
            )
        return verdict

    def _waiting(self, conn: Any) -> list[tuple[Entry, str | None]]:
        """The lines not chained yet, in id order, with their MAC."""
        rows = conn.execute(
            f"SELECT id, {', '.join(FIELDS)}, mac FROM audit "  # noqa: S608
            "WHERE seq IS NULL ORDER BY id"
        ).fetchall()
        return [
            (Entry(None, *row[1:-1], None, None, row[0]), row[-1])  # type: ignore[misc]
            for row in rows
        ]

    # --- export -----------------------------------------------------------------------------

    def export(
        self, db: Any, directory: Path, certificates: Sequence[x509.Certificate] = ()
    ) -> tuple[int, int]:
        """Write the chained entries (JSON lines), the signed heads (JSON lines) and the
        service's certificates (PEM) into ``directory``, readable by its owner only (the
        entries name professionals); (entries, heads) written. Lines still waiting for a seal
        are left out (proclient serve audit export seals first)."""
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


async def keep_sealed(journal: Journal, db: Any, interval: float = SEAL_INTERVAL) -> None:
    """Seal the lines this process appended, ``interval`` seconds after, until cancelled (a
    task of the service's lifespan, app.py). A failed seal (the database out of reach, a
    failover) never ends the task: the lines wait, the next seals come further apart (up to
    :data:`SEAL_BACKOFF_MAX` seconds) until one passes; the first failure is logged with
    where it happened, the next ones by type only, never with their text (it may quote data),
    and the seal that passes again says how many failed."""
    import anyio

    from proclient.core.logsafe import log_unexpected

    failed = 0
    while True:
        backoff = min(interval * 2 ** min(failed, 16), max(interval, SEAL_BACKOFF_MAX))
        await anyio.sleep(backoff if failed else interval)
        if not journal.due():
            continue
        try:
            await anyio.to_thread.run_sync(journal.seal, db)
        except Exception as error:
            journal.waiting = True
            failed += 1
            cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
            if failed == 1:  # the driver's error under the service's 503, where it came from
                log_unexpected(log, "audit journal: seal failed, tried again", cause)
            else:
                log.warning("audit journal: seal failed again (%s)", type(cause).__name__)
        else:
            if failed:
                log.warning("audit journal: sealed again after %d failed seal(s)", failed)
            failed = 0
