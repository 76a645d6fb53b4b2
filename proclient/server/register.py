"""The INSi register in the service's database: the identities INSi answers from, their
earlier matricules, and the answers given to each professional (the creation gate's proof).

An identity (:class:`RegisterIdentity`) is INSi's: the active INS (NIR or NIA with its OID),
the earlier matricules (most recent first), the reference traits (birth name, given names, sex,
birth date AAAAMMJJ, birthplace INSEE code) in INSi's form, upper case without diacritics.
Seeded from proclient.core.demo_people.DEMO_REGISTER in test mode (server/demo.py); loaded by an
operator with ``proclient serve --insi-register FILE.json`` (server/register_file.py); a
production service holds nothing else.

One person, one identity: a matricule (active or earlier) belongs to one identity, and
upserting an identity that names a matricule of another merges them (:func:`upsert`).
Matricules are compared as :func:`proclient.core.domain.person_key` does: the same 15 characters
under the NIR and NIA OIDs are one real person, under the TEST and DEMO OIDs one test person.

Functions take the caller's connection: they run inside its transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from proclient.core.domain import (
    OID_INS_NIA,
    REAL_INS_OIDS,
    TEST_INS_OIDS,
    Ins,
    compact_nir,
    person_key,
)
from proclient.core.identity import trait_key
from proclient.server.database import Conn

MAX_GIVEN_NAMES = 10
MAX_HISTORY = 20


@dataclass(frozen=True)
class RegisterIdentity:
    """One identity INSi knows. ``id``: its row, once stored."""

    ins: Ins
    birth_name: str
    given_names: tuple[str, ...]
    sex: str  # "M" or "F"
    birth_date: str  # AAAAMMJJ, lunar dates as written
    birthplace: str | None = None
    history: tuple[Ins, ...] = ()
    id: int | None = None

    @property
    def given_names_text(self) -> str:
        return " ".join(self.given_names)

    def known_as(self, ins: Ins) -> bool:
        """``ins`` names this person: their active INS or an earlier matricule."""
        key = person_key(ins)
        return any(person_key(own) == key for own in (self.ins, *self.history))

    def as_answer(self) -> dict:
        """The identity as INSi's answer carries it (the ``identity`` of a 00)."""
        return {
            "ins": {"value": self.ins.value, "oid": self.ins.oid},
            "history": [{"value": old.value, "oid": old.oid} for old in self.history],
            "traits": {
                "birth_name": self.birth_name,
                "given_names": list(self.given_names),
                "sex": self.sex,
                "birth_date": self.birth_date,
                "birthplace": self.birthplace,
            },
        }


# --- reading -------------------------------------------------------------------------------------

_COLUMNS = "id, ins_value, ins_oid, birth_name, given_names, sex, birth_date, birthplace"


def _load(conn: Conn, ids: Iterable[int]) -> list[RegisterIdentity]:
    """The identities with these ids (and their history), by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    marks = ", ".join("?" for _ in wanted)
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM insi_identities WHERE id IN ({marks}) ORDER BY id",  # noqa: S608
        wanted,
    ).fetchall()
    history: dict[int, list[Ins]] = {}
    for identity_id, value, oid in conn.execute(
        f"SELECT identity_id, ins_value, ins_oid FROM insi_history "  # noqa: S608
        f"WHERE identity_id IN ({marks}) ORDER BY identity_id, position",
        wanted,
    ).fetchall():
        history.setdefault(identity_id, []).append(Ins(value, oid))
    return [from_row(row, history.get(row[0], ())) for row in rows]


def from_row(row, history: Iterable[Ins]) -> RegisterIdentity:
    """An identity from a row of ``_COLUMNS`` (id first) and its earlier matricules."""
    return RegisterIdentity(
        ins=Ins(row[1], row[2]),
        birth_name=row[3],
        given_names=tuple(json.loads(row[4])),
        sex=row[5],
        birth_date=row[6],
        birthplace=row[7],
        history=tuple(history),
        id=row[0],
    )


def load(conn: Conn, identity_id: int) -> RegisterIdentity | None:
    found = _load(conn, (identity_id,))
    return found[0] if found else None


def by_value(conn: Conn, value: str) -> list[RegisterIdentity]:
    """The identities whose active INS or an earlier matricule has this value (any OID)."""
    value = compact_nir(value)
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM insi_identities WHERE ins_value = ? "
            "UNION SELECT identity_id FROM insi_history WHERE ins_value = ?",
            (value, value),
        ).fetchall()
    ]
    return _load(conn, ids)


def by_traits(conn: Conn, birth_name: str, birth_date: str, sex: str) -> list[RegisterIdentity]:
    """The identities with this birth name (compared by :func:`trait_key`), birth date (as
    written) and sex; the caller filters on given names and birthplace."""
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM insi_identities WHERE birth_name_key = ? AND birth_date = ? "
            "AND sex = ?",
            (trait_key(birth_name), birth_date, sex),
        ).fetchall()
    ]
    return _load(conn, ids)


def holding(conn: Conn, ins: Ins) -> RegisterIdentity | None:
    """The identity that ``ins`` names (as its active INS or an earlier matricule), or None."""
    for identity in by_value(conn, ins.value):
        if identity.known_as(ins):
            return identity
    return None


def by_active(conn: Conn, ins: Ins) -> RegisterIdentity | None:
    """The identity whose active INS is exactly ``ins`` (value and OID)."""
    row = conn.execute(
        "SELECT id FROM insi_identities WHERE ins_value = ? AND ins_oid = ?",
        (compact_nir(ins.value), ins.oid),
    ).fetchone()
    return load(conn, row[0]) if row is not None else None


def person_keys(conn: Conn, ins: Ins) -> tuple[str, ...]:
    """Every person key (domain.person_key) of the person ``ins`` names, the canonical one
    first: their active INS's, then their earlier matricules'. A person outside the register
    has one key, ``person_key(ins)``."""
    identity = holding(conn, ins)
    if identity is None:
        return (person_key(ins),)
    return keys_of(identity)


def keys_of(identity: RegisterIdentity) -> tuple[str, ...]:
    """The person keys of an identity, its active INS's first, then its earlier matricules'."""
    keys: list[str] = []
    for own in (identity.ins, *identity.history):
        key = person_key(own)
        if key not in keys:
            keys.append(key)
    return tuple(keys)


# --- writing -------------------------------------------------------------------------------------


def upsert(conn: Conn, identity: RegisterIdentity, at: str) -> int:
    """Store ``identity`` (INSi's latest word on that person); its id. The identities that
    know any of its matricules are that person: the first is updated (active INS, traits,
    history replaced), the others merged into it. Idempotent."""
    conn.lock("proclient-insi-register")
    same: dict[int, None] = {}
    for own in (identity.ins, *identity.history):
        for found in by_value(conn, own.value):
            if found.known_as(own) and found.id is not None:
                same[found.id] = None
    ids = sorted(same)
    names = json.dumps(list(identity.given_names), ensure_ascii=False)
    values = (
        identity.ins.value,
        identity.ins.oid,
        identity.birth_name,
        trait_key(identity.birth_name),
        names,
        identity.sex,
        identity.birth_date,
        identity.birthplace,
    )
    if ids:
        for identity_id in ids:
            conn.execute("DELETE FROM insi_history WHERE identity_id = ?", (identity_id,))
        kept, merged = ids[0], ids[1:]
        for identity_id in merged:
            conn.execute(
                "UPDATE insi_answers SET identity_id = ? WHERE identity_id = ?",
                (kept, identity_id),
            )
            conn.execute("DELETE FROM insi_identities WHERE id = ?", (identity_id,))
        conn.execute(
            "UPDATE insi_identities SET ins_value = ?, ins_oid = ?, birth_name = ?, "
            "birth_name_key = ?, given_names = ?, sex = ?, birth_date = ?, birthplace = ?, "
            "updated_at = ? WHERE id = ?",
            (*values, at, kept),
        )
        identity_id = kept
    else:
        row = conn.execute(
            "INSERT INTO insi_identities (ins_value, ins_oid, birth_name, birth_name_key, "
            "given_names, sex, birth_date, birthplace, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (*values, at, at),
        ).fetchone()
        identity_id = row[0]
    for position, old in enumerate(identity.history):
        conn.execute(
            "INSERT INTO insi_history (identity_id, position, ins_value, ins_oid) "
            "VALUES (?, ?, ?, ?)",
            (identity_id, position, old.value, old.oid),
        )
    return identity_id


def record_answer(conn: Conn, id_nat: str, identity: RegisterIdentity, at: float) -> None:
    """INSi gave ``identity`` (its active INS) to the professional ``id_nat`` at ``at``."""
    conn.execute(
        "INSERT INTO insi_answers (at, id_nat, ins_value, ins_oid, identity_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (at, id_nat, identity.ins.value, identity.ins.oid, identity.id),
    )


def recent_answer(conn: Conn, id_nat: str, ins: Ins, since: float) -> RegisterIdentity | None:
    """The identity INSi gave the professional ``id_nat`` for exactly ``ins`` (value and OID)
    at ``since`` or later, as the register holds it now; None when there is no such answer."""
    row = conn.execute(
        "SELECT identity_id FROM insi_answers WHERE id_nat = ? AND ins_value = ? "
        "AND ins_oid = ? AND at >= ? ORDER BY at DESC LIMIT 1",
        (id_nat, compact_nir(ins.value), ins.oid, since),
    ).fetchone()
    return load(conn, row[0]) if row is not None else None


def purge_answers(conn: Conn, before: float) -> int:
    """Forget the answers given before ``before``; how many."""
    return conn.execute("DELETE FROM insi_answers WHERE at < ?", (before,)).rowcount


# --- what a mode holds, storing several --------------------------------------------------------


def accepted_oid(oid: str, mode: str) -> bool:
    """An INS OID this service's mode takes (HOM 6): the TEST and DEMO OIDs in test mode,
    INS-NIR and INS-NIA in production. INS-NIA in test mode too: it has no test variant,
    and the demo register holds one person with an NIA."""
    if mode == "production":
        return oid in REAL_INS_OIDS
    return oid in TEST_INS_OIDS or oid == OID_INS_NIA


def store(storage, identities: Iterable[RegisterIdentity], at: str) -> int:
    """Upsert ``identities`` in one transaction of ``storage``; how many."""
    count = 0
    with storage.transaction() as conn:
        for identity in identities:
            upsert(conn, identity, at)
            count += 1
    return count
