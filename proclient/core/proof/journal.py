"""The audit journal's hash chain and its signed heads, verified without a database.

Each entry carries ``seq`` (1, 2, 3… with no gap), ``prev_hash`` (the hash of the entry before
it; :data:`GENESIS` for the first) and ``hash`` = SHA-256 of ``prev_hash``, a newline and the
entry's canonical encoding (:func:`canonical_entry`: its fields and its seq as JSON, keys sorted,
no spaces, UTF-8). Changing, removing, inserting or moving one entry breaks the chain at that
entry. The service signs a *head* (seq, hash, time, key id) every N entries and at shutdown
with its document-signing key: an administrator who rewrites the whole chain after an entry, or
cuts its tail, cannot sign a new head, so the last signed head pins everything up to it.

A hash chain rather than a Merkle log (RFC 6962): the journal is verified whole, in order, by
one auditor, and never asked "is entry k in it?" by a third party, which is what a Merkle tree's
logarithmic proofs are for; a chain costs one hash per append and needs no tree state kept
beside the rows. What a chain cannot show alone (entries appended by a forger after the last
signed head, or the tail *and* its heads removed) the signed heads and the auditor's earlier
exports do: see docs/service.md.

:func:`verify_journal` is shared by ``proclient serve audit verify`` (rows from the database)
and ``proclient verify --journal DIR`` (an export, proclient/commands/verify_journal.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from proclient.core.i18n import _
from proclient.core.proof.ecdsa import check_signature, key_id
from proclient.core.proof.verdict import Verdict

GENESIS = "0" * 64
# An export's files (server/journal.py writes them, commands/verify_journal.py reads them).
ENTRIES_FILE = "entries.jsonl"
HEADS_FILE = "heads.jsonl"
CERTIFICATES_FILE = "certificates.pem"
HEAD_KIND = "proclient-audit-head-v1"

# The fields an entry's hash covers, besides its seq (the audit table's columns).
FIELDS = ("at", "id_nat", "action", "patient_ref", "dmp_id", "outcome")


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit entry as stored; ``row_id`` (the table's id) is not hashed: it only names an
    entry that has no seq."""

    seq: int | None
    at: str
    id_nat: str
    action: str
    patient_ref: str | None
    dmp_id: str | None
    outcome: str | None
    prev_hash: str | None
    hash: str | None
    row_id: int | None = None

    def fields(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}

    def to_json(self) -> dict:
        return {"seq": self.seq, **self.fields(), "prev_hash": self.prev_hash, "hash": self.hash}

    @classmethod
    def from_json(cls, data: dict) -> Entry:
        """From :meth:`to_json` (an export's line); KeyError/TypeError/ValueError when it is
        not one."""
        if not isinstance(data, dict):
            raise TypeError("entry")
        values = {name: data[name] for name in ("seq", *FIELDS, "prev_hash", "hash")}
        for name in ("at", "id_nat", "action"):
            if not isinstance(values[name], str):
                raise TypeError(name)
        for name in ("patient_ref", "dmp_id", "outcome", "prev_hash", "hash"):
            if values[name] is not None and not isinstance(values[name], str):
                raise TypeError(name)
        if values["seq"] is not None and (
            isinstance(values["seq"], bool) or not isinstance(values["seq"], int)
        ):
            raise TypeError("seq")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Head:
    """A signed head: the service asserts that entry ``seq`` of its journal had ``hash`` at
    ``at`` (UTC, ISO 8601); ``signature`` is ECDSA P-256 SHA-256, raw r||s, by the key whose
    certificate's SPKI SHA-256 starts with ``key_id``."""

    seq: int
    hash: str
    at: str
    key_id: str
    signature: bytes

    def to_json(self) -> dict:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "key_id": self.key_id,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict) -> Head:
        if not isinstance(data, dict):
            raise TypeError("head")
        seq = data["seq"]
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise TypeError("seq")
        for name in ("hash", "at", "key_id", "signature"):
            if not isinstance(data[name], str):
                raise TypeError(name)
        return cls(seq, data["hash"], data["at"], data["key_id"], bytes.fromhex(data["signature"]))


def canonical_entry(seq: int | None, fields: dict) -> bytes:
    """The bytes an entry's hash covers besides ``prev_hash``."""
    document = {"seq": seq, **{name: fields.get(name) for name in FIELDS}}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, entry: Entry | dict) -> str:
    """SHA-256 (hex) of ``prev_hash``, a newline and the entry's canonical encoding; ``entry``
    an :class:`Entry` or a dict with ``seq`` and the :data:`FIELDS`."""
    if isinstance(entry, Entry):
        seq, fields = entry.seq, entry.fields()
    else:
        seq, fields = entry.get("seq"), entry
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical_entry(seq, fields)).hexdigest()


def head_payload(seq: int, hash_: str, at: str, key_id: str) -> bytes:
    """The bytes a head's signature covers."""
    document = {"kind": HEAD_KIND, "seq": seq, "hash": hash_, "at": at, "key_id": key_id}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _altered(sentence: str, problem: str, seq: int | None, **details: object) -> Verdict:
    return Verdict("altered", sentence, {"problem": problem, "entry": seq, **details})


def _sort_key(entry: Entry) -> tuple:
    return (entry.seq is None, entry.seq or 0, entry.row_id or 0)


def _walk(ordered: Sequence[Entry]) -> Verdict | None:
    """The first break in the chain, named, or None."""
    position = {entry.hash: index for index, entry in enumerate(ordered) if entry.hash}
    previous = GENESIS
    expected = 1
    for index, entry in enumerate(ordered):
        if entry.seq is None:
            return _altered(
                _(
                    "Journal altéré : une entrée sans numéro (ligne {row}) a été insérée.",
                    row=entry.row_id if entry.row_id is not None else "?",
                ),
                "inserted",
                None,
                row=entry.row_id,
            )
        if entry.seq < expected:
            return _altered(
                _("Journal altéré : l'entrée {seq} a été insérée.", seq=entry.seq),
                "inserted",
                entry.seq,
            )
        if entry.seq > expected:
            return _altered(
                _("Journal altéré : l'entrée {seq} a été supprimée.", seq=expected),
                "deleted",
                expected,
            )
        if entry.prev_hash != previous:
            found = position.get(entry.prev_hash or "")
            if index >= 2 and entry.prev_hash == ordered[index - 2].hash:
                seq = ordered[index - 1].seq
                return _altered(
                    _("Journal altéré : l'entrée {seq} a été insérée.", seq=seq), "inserted", seq
                )
            if found is not None and found != index - 1:
                return _altered(
                    _("Journal altéré : l'entrée {seq} a été déplacée.", seq=entry.seq),
                    "reordered",
                    entry.seq,
                )
            if index >= 1 and entry_hash(entry.prev_hash or "", entry) == entry.hash:
                # This entry is intact and links to a hash nobody holds: the one before it
                # was changed and its hash recomputed.
                seq = ordered[index - 1].seq
                return _altered(
                    _("Journal altéré : l'entrée {seq} a été modifiée.", seq=seq), "edited", seq
                )
            if index == 0:
                return _altered(
                    _("Journal altéré : l'entrée {seq} a été modifiée.", seq=entry.seq),
                    "edited",
                    entry.seq,
                )
            return _altered(
                _("Journal altéré : l'entrée {seq} a été supprimée.", seq=entry.seq),
                "deleted",
                entry.seq,
            )
        if entry_hash(previous, entry) != entry.hash:
            return _altered(
                _("Journal altéré : l'entrée {seq} a été modifiée.", seq=entry.seq),
                "edited",
                entry.seq,
            )
        previous = entry.hash or ""
        expected += 1
    return None


def _at(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_heads(
    ordered: Sequence[Entry], heads: Sequence[Head], certificates: Sequence[x509.Certificate]
) -> Verdict | None:
    by_key = {key_id(certificate): certificate for certificate in certificates}
    by_seq = {entry.seq: entry for entry in ordered}
    last = ordered[-1].seq if ordered else 0
    previous_head = 0
    for head in sorted(heads, key=lambda item: item.seq):
        certificate = by_key.get(head.key_id)
        if certificate is None:
            return Verdict(
                "unknown_key",
                _(
                    "Tête du journal signée par une clé inconnue (entrée {seq}) : ce n'est pas "
                    "une clé du service.",
                    seq=head.seq,
                ),
                {"problem": "unknown_key", "entry": head.seq, "key_id": head.key_id},
            )
        payload = head_payload(head.seq, head.hash, head.at, head.key_id)
        if not check_signature(certificate, payload, head.signature):
            return _altered(
                _(
                    "Journal altéré : la tête signée de l'entrée {seq} a été modifiée.",
                    seq=head.seq,
                ),
                "head_edited",
                head.seq,
            )
        moment = _at(head.at)
        if moment is None or not (
            certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc
        ):
            return Verdict(
                "revoked",
                _(
                    "Tête du journal signée hors de la validité du certificat du service "
                    "(entrée {seq}).",
                    seq=head.seq,
                ),
                {"problem": "expired_key", "entry": head.seq, "key_id": head.key_id},
            )
        if head.seq > last:
            return _altered(
                _(
                    "Journal altéré : il s'arrête à l'entrée {last} alors qu'une tête signée "
                    "en compte {seq} ; la fin a été coupée.",
                    last=last,
                    seq=head.seq,
                ),
                "cut",
                last + 1,
                signed=head.seq,
            )
        entry = by_seq.get(head.seq)
        if entry is None or entry.hash != head.hash:
            return _altered(
                _(
                    "Journal altéré : les entrées {first} à {seq} ne sont plus celles que le "
                    "service a signées.",
                    first=previous_head + 1,
                    seq=head.seq,
                ),
                "rewritten",
                previous_head + 1,
                signed=head.seq,
            )
        previous_head = head.seq
    return None


def verify_journal(
    entries: Iterable[Entry],
    heads: Iterable[Head],
    certificates: Iterable[x509.Certificate],
) -> Verdict:
    """Walk the chain in seq order and check every signed head against it; the first
    problem found, named, or "valid" (``details``: entries, signed_up_to, unsigned_tail)."""
    ordered = sorted(entries, key=_sort_key)
    heads = list(heads)
    problem = _walk(ordered) or _check_heads(ordered, heads, list(certificates))
    if problem is not None:
        return problem
    count = len(ordered)
    signed = max((head.seq for head in heads), default=0)
    details = {"entries": count, "signed_up_to": signed, "unsigned_tail": count - signed}
    if count == 0:
        return Verdict("valid", _("Journal intact : il est vide."), details)
    if signed == 0:
        sentence = _(
            "Journal intact : {count} entrée(s) chaînée(s), aucune tête signée encore.",
            count=count,
        )
    elif signed == count:
        sentence = _(
            "Journal intact : {count} entrée(s) chaînée(s), signées jusqu'à la dernière.",
            count=count,
        )
    else:
        sentence = _(
            "Journal intact : {count} entrée(s) chaînée(s), signées jusqu'à l'entrée {signed} "
            "(les suivantes le seront à la prochaine tête).",
            count=count,
            signed=signed,
        )
    return Verdict("valid", sentence, details)
