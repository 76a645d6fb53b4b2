"""The INSi register's look-ups on the service's hot path, one round trip each: the look-up by
card (by value), by traits, the verification (by active INS), the creation gate's recent
answer, and the person keys a write locks and finds a DMP by. They return what
server/register.py's functions of the same names return, which read an identity's row, then
its history, in separate statements (register.py keeps them for the operator's loading and
merging); here the history comes in the same statement (a LEFT JOIN, one row per matricule).

:class:`PersonKeys` keeps, per thread, the person keys found during the write transaction
under way (server/storage.py's ``Storage.transaction``): a creation needs them for the
patient's lock and again for the DMP's look-up, and the INSi answer it has just read names
them already. The register is the operator's (``--insi-register``, loaded apart), so within
one transaction a second read would see the same identity.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from proclient.core.domain import Ins, compact_nir, person_key
from proclient.core.identity import trait_key
from proclient.server.database import Conn
from proclient.server.register import RegisterIdentity, from_row, keys_of

_SELECT = (
    "SELECT i.id, i.ins_value, i.ins_oid, i.birth_name, i.given_names, i.sex, i.birth_date, "
    "i.birthplace, h.ins_value, h.ins_oid FROM insi_identities i "
    "LEFT JOIN insi_history h ON h.identity_id = i.id WHERE "
)


def identities(conn: Conn, where: str, params: tuple) -> list[RegisterIdentity]:
    """The identities matching ``where`` (on ``i``, insi_identities), by id, each with its
    earlier matricules in order."""
    rows = conn.execute(_SELECT + where + " ORDER BY i.id, h.position", params).fetchall()
    found: dict[int, tuple[tuple, list[Ins]]] = {}
    for row in rows:
        _first, history = found.setdefault(row[0], (row, []))
        if row[8] is not None:
            history.append(Ins(row[8], row[9]))
    return [from_row(row, history) for row, history in found.values()]


def by_value(conn: Conn, value: str) -> list[RegisterIdentity]:
    """The identities whose active INS or an earlier matricule has this value (any OID)."""
    value = compact_nir(value)
    return identities(
        conn,
        "i.id IN (SELECT id FROM insi_identities WHERE ins_value = ? "
        "UNION SELECT identity_id FROM insi_history WHERE ins_value = ?)",
        (value, value),
    )


def by_traits(conn: Conn, birth_name: str, birth_date: str, sex: str) -> list[RegisterIdentity]:
    """The identities with this birth name (by :func:`trait_key`), birth date and sex."""
    return identities(
        conn,
        "i.birth_name_key = ? AND i.birth_date = ? AND i.sex = ?",
        (trait_key(birth_name), birth_date, sex),
    )


def by_active(conn: Conn, ins: Ins) -> RegisterIdentity | None:
    """The identity whose active INS is exactly ``ins`` (value and OID)."""
    found = identities(conn, "i.ins_value = ? AND i.ins_oid = ?", (compact_nir(ins.value), ins.oid))
    return found[0] if found else None


def recent_answer(conn: Conn, id_nat: str, ins: Ins, since: float) -> RegisterIdentity | None:
    """The identity INSi gave the professional ``id_nat`` for exactly ``ins`` (value and OID)
    at ``since`` or later, as the register holds it now; None when there is no such answer."""
    found = identities(
        conn,
        "i.id = (SELECT identity_id FROM insi_answers WHERE id_nat = ? AND ins_value = ? "
        "AND ins_oid = ? AND at >= ? ORDER BY at DESC LIMIT 1)",
        (id_nat, compact_nir(ins.value), ins.oid, since),
    )
    return found[0] if found else None


def person_keys(conn: Conn, ins: Ins) -> tuple[str, ...]:
    """register.person_keys: the keys of the identity ``ins`` names (one identity per
    person), or ``person_key(ins)`` alone for a person outside the register."""
    for identity in by_value(conn, ins.value):
        if identity.known_as(ins):
            return keys_of(identity)
    return (person_key(ins),)


class PersonKeys:
    """Per thread, the person keys found in the write transaction under way on a connection."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def transaction(self, unit: AbstractContextManager[Conn]) -> Iterator[Conn]:
        """Enter ``unit`` (a database transaction) and keep what is found on its connection
        until it ends."""
        with unit as conn:
            self._local.conn, self._local.found = conn, {}
            try:
                yield conn
            finally:
                self._local.conn = self._local.found = None

    def _found(self, conn: Conn) -> dict[Ins, tuple[str, ...]] | None:
        return self._local.found if getattr(self._local, "conn", None) is conn else None

    def of(self, conn: Conn, ins: Ins) -> tuple[str, ...]:
        """:func:`person_keys`, read once per transaction."""
        found = self._found(conn)
        keys = found.get(ins) if found is not None else None
        if keys is None:
            keys = person_keys(conn, ins)
            if found is not None:
                found[ins] = keys
        return keys

    def remember(self, conn: Conn, identity: RegisterIdentity | None) -> RegisterIdentity | None:
        """``identity``, whose person keys are now known for its active INS."""
        found = self._found(conn)
        if identity is not None and found is not None:
            found.setdefault(identity.ins, keys_of(identity))
        return identity
