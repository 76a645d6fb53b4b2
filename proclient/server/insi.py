"""INSi in the service: the look-ups by card and by traits, the verification, and the creation
gate that holds TD1.1 and TD1.2 to a recent INSi answer (../shared/DOMAIN.md §5).

The answers come from the service's register (server/register.py) and mirror the teleservice:
``00`` one identity (active INS, history, reference traits), ``01`` none, ``02`` several.

- By card: the identities whose active INS or an earlier matricule is the card's NIR, and
  whose birth date is the card's (as written, lunar included) or whose given names include
  the first word of the card's first name (compared by proclient.core.identity.trait_key: case,
  accents, hyphens and apostrophes aside). The card's name is not compared: it may be the
  used name (LEROY on the card, FONTAINE at INSi); nor is the beneficiary's rank on the card
  (the NIR read for them names the person here).
- By traits: birth name, first given name (one of the identity's given names), sex and birth
  date; the birthplace too when given (it splits homonyms).
- Verification: valid when the identity whose **active** INS is the one given (value and OID)
  has these traits (birth name, the given names in order, sex, birth date).

Every call is audited (``insi_card``, ``insi_traits``, ``insi_verification``) with its answer
(``00``/``01``/``02``, ``valid``/``invalid``) and the pseudonymous reference of the identity
found; the log lines carry codes and references only, never a trait. Every ``00`` and every
valid verification is recorded as an answer to that professional: the gate's proof.
"""

from __future__ import annotations

import logging
from datetime import date

from proclient.core.domain import (
    REAL_INS_OIDS,
    TEST_INS_OIDS,
    BirthDate,
    Ins,
    Professional,
    is_minor,
    normalize_name,
    validate_ins,
    validate_nir,
)
from proclient.core.identity import Document, IdentityStatus, normalize_birthplace, trait_key
from proclient.server import register, register_reads
from proclient.server.database import Conn
from proclient.server.problems import Problem
from proclient.server.register import RegisterIdentity, accepted_oid
from proclient.server.schemas import (
    IdentityIn,
    InsiCardIn,
    InsIn,
    InsiTraitsIn,
    InsiVerificationIn,
)
from proclient.server.settings import ServerSettings
from proclient.server.storage import Storage, pipelined

log = logging.getLogger("proclient.server")


def check_ins(mode: str, ins: InsIn) -> Ins:
    """The INS if its OID suits the service's ``mode`` (HOM 6) and its value has the NIR's
    shape and key, for an INS-NIA as for an INS-NIR (proclient.core.domain.validate_ins). A test
    service takes the TEST and DEMO OIDs, and the INS-NIA OID as well: there is no test
    variant of the NIA (the demo register's OKAFOR Chidi has one); a production service
    takes INS-NIR and INS-NIA only."""
    if ins.oid not in TEST_INS_OIDS | REAL_INS_OIDS:
        raise Problem("INS_OID_UNKNOWN")
    if not accepted_oid(ins.oid, mode):
        raise Problem("INS_TEST_ON_PRODUCTION" if mode == "production" else "INS_REAL_ON_TEST")
    return validate_ins(ins.value, ins.oid)


def _keys(names: tuple[str, ...]) -> set[str]:
    return {trait_key(name) for name in names}


def _answer(found: list[RegisterIdentity]) -> tuple[str, RegisterIdentity | None]:
    if not found:
        return "01", None
    if len(found) > 1:
        return "02", None
    return "00", found[0]


class InsiOperations:
    """The INSi look-ups and the creation gate, over the service's register."""

    def __init__(self, settings: ServerSettings, storage: Storage) -> None:
        self._settings = settings
        self._storage = storage

    def _now(self) -> tuple[str, float]:
        now = self._settings.clock()
        return now.isoformat(timespec="seconds"), now.timestamp()

    def _suits_mode(self, identity: RegisterIdentity) -> bool:
        # An identity whose OID this mode refuses (a register loaded under the other mode)
        # is one INSi would not give here.
        return accepted_oid(identity.ins.oid, self._settings.mode)

    def _conclude(
        self,
        conn: Conn,
        pro: Professional,
        action: str,
        outcome: str,
        identity: RegisterIdentity | None,
        record: bool,
    ) -> None:
        """Audit the call, record the answer when it gives an INS, log codes only."""
        at, stamp = self._now()
        ref = self._storage.patient_ref(identity.ins) if identity is not None else None
        if record and identity is not None:
            register.record_answer(conn, pro.id_nat, identity, stamp)
        self._storage.audit(conn, at, pro.id_nat, action, ref, None, outcome)
        log.info("%s by %s: %s (patient %s)", action, pro.id_nat, outcome, ref or "-")

    # --- look-ups ---------------------------------------------------------------------------

    def by_card(self, pro: Professional, body: InsiCardIn) -> dict:
        """INSi look-up by the Carte Vitale's beneficiary."""
        nir = validate_nir(body.nir)  # NIR_FORMAT, NIR_KEY
        normalize_name(body.last_name)  # NAME_CHARSET: checked, not compared
        first = normalize_name(body.first_name, required=False)
        first_word = trait_key(first.split(" ")[0]) if first else ""
        with self._storage.transaction() as conn, pipelined(conn):
            found = [
                identity
                for identity in register_reads.by_value(conn, nir)
                if self._suits_mode(identity)
                and (
                    identity.birth_date == body.birth_date
                    or (first_word and first_word in _keys(identity.given_names))
                )
            ]
            code, identity = _answer(found)
            self._conclude(conn, pro, "insi_card", code, identity, record=True)
        return {"code": code, "identity": identity.as_answer() if identity else None}

    def by_traits(self, pro: Professional, body: InsiTraitsIn) -> dict:
        """INSi look-up by traits."""
        birth_name = normalize_name(body.birth_name)
        first_key = trait_key(normalize_name(body.first_given_name))
        birthplace = normalize_birthplace(body.birthplace)  # BIRTHPLACE
        with self._storage.transaction() as conn, pipelined(conn):
            found = [
                identity
                for identity in register_reads.by_traits(
                    conn, birth_name, body.birth_date, body.sex
                )
                if self._suits_mode(identity)
                and first_key in _keys(identity.given_names)
                and (birthplace is None or identity.birthplace == birthplace)
            ]
            code, identity = _answer(found)
            self._conclude(conn, pro, "insi_traits", code, identity, record=True)
        return {"code": code, "identity": identity.as_answer() if identity else None}

    def verify(self, pro: Professional, body: InsiVerificationIn) -> dict:
        """INSi verification of an INS and the traits held with it."""
        ins = check_ins(self._settings.mode, body.ins)
        birth_name = trait_key(normalize_name(body.birth_name))
        given = trait_key(" ".join(normalize_name(name) for name in body.given_names))
        with self._storage.transaction() as conn, pipelined(conn):
            identity = register_reads.by_active(conn, ins)
            valid = (
                identity is not None
                and birth_name == trait_key(identity.birth_name)
                and given == trait_key(identity.given_names_text)
                and body.sex == identity.sex
                and body.birth_date == identity.birth_date
            )
            outcome = "valid" if valid else "invalid"
            self._conclude(conn, pro, "insi_verification", outcome, identity, record=valid)
        return {"valid": valid}

    # --- the creation gate ------------------------------------------------------------------

    @staticmethod
    def vigilance(identity: IdentityIn | None) -> tuple[IdentityStatus, Document]:
        """The identity block of a creation: the RNIV status and the document seen
        (absent: récupérée, no document); IDENTITY_STATUS unless the status follows the
        document (qualifiée with one, récupérée without)."""
        if identity is None:
            return IdentityStatus.RETRIEVED, Document.NONE
        status, document = IdentityStatus(identity.status), Document(identity.document)
        expected = (
            IdentityStatus.RETRIEVED if document is Document.NONE else IdentityStatus.QUALIFIED
        )
        if status is not expected:
            raise Problem("IDENTITY_STATUS")
        return status, document

    def require_answer(
        self,
        conn: Conn,
        pro: Professional,
        ins: Ins,
        patient: dict,
        document: Document,
        today: date,
    ) -> RegisterIdentity:
        """Refuse a creation or reactivation that skipped INSi: INSI_REQUIRED unless INSi gave
        ``ins`` (value and OID) to this professional within ``insi_answer_ttl``;
        INSI_TRAITS_MISMATCH unless ``patient`` carries INSi's traits exactly (last name the
        birth name, first name the given names joined by one space, birth date, sex);
        DOCUMENT_MINORS_ONLY for a birth certificate or livret de famille on an adult (by
        INSi's birth date).

        The proof is bound to the professional (idNat_PS), not to the session token: sessions
        last 15 minutes and the workstation renews them transparently (after the idle lock
        too), so an answer obtained under one token and a creation sent under the next one
        are the same professional's honest sequence; binding to the token would refuse it.
        Runs inside the write transaction, after the idempotency record was looked up: a
        replay of an accepted creation is still replayed once the answer is old, and a
        refusal stores nothing. The answer: the person INSi gave (their INS history with
        it), for a capture's held identity (server/offline.py)."""
        since = self._settings.clock().timestamp() - self._settings.insi_answer_ttl.total_seconds()
        identity = self._storage.recent_insi_identity(conn, pro.id_nat, ins, since)
        if identity is None or identity.ins != ins:  # none, or no longer the active INS
            raise Problem("INSI_REQUIRED")
        if (
            patient["last_name"] != identity.birth_name
            or patient["first_name"] != identity.given_names_text
            or patient["birth_date"] != identity.birth_date
            or patient.get("sex") != identity.sex
        ):
            raise Problem("INSI_TRAITS_MISMATCH")
        if document.minors_only and not is_minor(
            BirthDate(identity.birth_date), today, self._settings.majority_age
        ):
            raise Problem("DOCUMENT_MINORS_ONLY")
        return identity
