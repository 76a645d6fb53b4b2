"""The DMP transactions: TD0.2 status, TD1.1 creation, TD1.2 reactivation, TD1.5 web access,
and the reissue of an initial password whose answer was lost. Creation and reactivation need
a recent INSi answer for the INS, to the same professional, and INSi's traits (server/insi.py).

Each write is idempotent per (professional, Idempotency-Key): the same payload replays the
first answer, without the initial password, which is handed out once; another payload under
the same key is refused (422); a request still running under the same key makes the second
one wait for nothing: 409 IDEMPOTENCY_IN_PROGRESS. Rules run before the write transaction;
the transaction re-checks the key and the DMP's state under the database's write locks (the
patient's and the key's), so concurrent requests stay correct on SQLite and PostgreSQL. The
answer and its idempotency record are committed together: a crash leaves both or neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography import x509

from proclient.core.domain import (
    REAL_INS_OIDS,
    TEST_INS_OIDS,
    Action,
    BirthDate,
    Ins,
    Professional,
    WebAccess,
    is_minor,
    make_legal_representative,
    normalize_name,
)
from proclient.core.identity import Document
from proclient.server.database import Conn
from proclient.server.insi import InsiOperations, check_ins
from proclient.server.offline import require_fresh, require_match, verify_capture
from proclient.server.pki import load_certificates
from proclient.server.problems import Problem
from proclient.server.schemas import (
    CreationIn,
    InsIn,
    StatusIn,
    WebAccessReissueIn,
    WebAccessRequestIn,
)
from proclient.server.settings import ServerSettings
from proclient.server.statements import signed_statement
from proclient.server.storage import DmpRow, Storage, new_dmp_id, pipelined

log = logging.getLogger("proclient.server")

TEST_OIDS = TEST_INS_OIDS
REAL_OIDS = REAL_INS_OIDS

# No O/0, I/l/1: the password is read on paper and typed by the patient.
PASSWORD_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
PASSWORD_LENGTH = 12
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def new_password(length: int = PASSWORD_LENGTH) -> str:
    """A random initial password with at least one upper case letter, lower case letter and
    digit, from an alphabet without look-alikes."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if (
            any(c.isupper() for c in password)
            and any(c.islower() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches a hash made by :func:`hash_password`."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


def new_login() -> str:
    """The patient's web login: stable and not secret, but not derived from the NIR."""
    return "P" + "".join(secrets.choice("0123456789") for _ in range(10))


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: dict
    replayed: bool = False


@dataclass(frozen=True)
class _Account:
    email: str | None
    mobile: str | None
    password: str
    password_hash: str


Execute = Callable[[Conn, str], tuple[int, dict]]


class InFlight:
    """Idempotency keys whose request is running in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: set[tuple[str, str]] = set()

    @contextmanager
    def claim(self, id_nat: str, key: str) -> Iterator[None]:
        """Hold ``key`` for the block, or refuse at once with 409 when it is held already.
        Across processes, the database's key lock serialises instead (the second request
        then replays the first answer)."""
        with self._lock:
            if (id_nat, key) in self._keys:
                raise Problem("IDEMPOTENCY_IN_PROGRESS")
            self._keys.add((id_nat, key))
        try:
            yield
        finally:
            with self._lock:
                self._keys.discard((id_nat, key))


def _without_password(body: dict) -> dict:
    """The answer as it may be stored and replayed: the password blanked out."""
    stored = dict(body)
    target = stored
    if isinstance(stored.get("web_access"), dict):
        target = stored["web_access"] = dict(stored["web_access"])
    if "initial_password" in target:
        target["initial_password"], target["already_issued"] = None, True
    return stored


class DmpOperations:
    def __init__(
        self,
        settings: ServerSettings,
        storage: Storage,
        trusted: Sequence[x509.Certificate] | None = None,
    ) -> None:
        self._settings = settings
        self._storage = storage
        # The CAs of the professionals' certificates, for a capture's signer
        # (server/offline.py); read from the settings at the first capture when not given.
        self._trusted = list(trusted) if trusted is not None else None
        self._in_flight = InFlight()
        self.insi = InsiOperations(settings, storage)
        try:
            self._zone: ZoneInfo | None = ZoneInfo("Europe/Paris")
        except ZoneInfoNotFoundError:
            self._zone = None

    # --- rules ------------------------------------------------------------------------------

    def _today(self) -> date:
        now = self._settings.clock()
        return (now.astimezone(self._zone) if self._zone else now).date()

    def _now_iso(self) -> str:
        return self._settings.clock().isoformat(timespec="seconds")

    def _trusted_cas(self) -> list[x509.Certificate]:
        if self._trusted is None:
            self._trusted = load_certificates(self._settings.trusted_ca_pem)
        return self._trusted

    def check_ins(self, ins: InsIn) -> Ins:
        """The INS if its OID suits this service's mode (server/insi.py's check_ins: HOM 6,
        and the INS-NIA in test mode too) and its value has the NIR's shape and key."""
        return check_ins(self._settings.mode, ins)

    def _account(self, email: str | None, mobile: str | None) -> _Account:
        # The client's rules (proclient.core.domain): French mobiles only, RFC 5321 email limits.
        web = WebAccess.from_input(email or "", mobile or "")
        password = new_password()
        return _Account(web.email, web.mobile, password, hash_password(password))

    # --- idempotency ------------------------------------------------------------------------

    def _replay(self, record, request_hash: str, also: str | None = None) -> Outcome:
        """The first answer under this key, when it was for this request (``request_hash``)
        or, for a creation captured offline, for the same request sent live before the
        capture (``also``: the hash without the capture block)."""
        same = hmac.compare_digest(record.request_hash, request_hash)
        if not same and also is not None:
            same = hmac.compare_digest(record.request_hash, also)
        if not same:
            raise Problem("IDEMPOTENCY_KEY_REUSED")
        return Outcome(record.status_code, record.response, replayed=True)

    def _peek(
        self, pro: Professional, key: str, request_hash: str, also: str | None = None
    ) -> Outcome | None:
        with self._storage.read() as conn:
            record = self._storage.find_idempotent(conn, pro.id_nat, key)
        return self._replay(record, request_hash, also) if record else None

    def _commit(
        self,
        pro: Professional,
        key: str,
        request_hash: str,
        execute: Execute,
        also: str | None = None,
    ) -> Outcome:
        with self._in_flight.claim(pro.id_nat, key):
            return self._commit_claimed(pro, key, request_hash, execute, also)

    def _commit_claimed(
        self,
        pro: Professional,
        key: str,
        request_hash: str,
        execute: Execute,
        also: str | None = None,
    ) -> Outcome:
        at = self._now_iso()
        with self._storage.transaction() as conn, pipelined(conn):
            self._storage.lock_key(conn, pro.id_nat, key)
            record = self._storage.find_idempotent(conn, pro.id_nat, key)
            if record is not None:
                return self._replay(record, request_hash, also)
            status_code, body = execute(conn, at)
            self._storage.save_idempotent(
                conn, pro.id_nat, key, request_hash, status_code, _without_password(body), at
            )
        return Outcome(status_code, body)

    def _open_account(self, conn: Conn, dmp_id: str, account: _Account, at: str) -> dict:
        login = self._storage.new_id(conn, "web_accounts", "login", new_login)
        self._storage.add_web_account(
            conn, dmp_id, login, account.password_hash, account.email, account.mobile, at
        )
        return {"login": login, "initial_password": account.password, "already_issued": False}

    # --- transactions -----------------------------------------------------------------------

    def status(self, pro: Professional, body: StatusIn) -> dict:
        """TD0.2: does the patient have a DMP, is web access open, may this professional act."""
        ins = self.check_ins(body.ins)
        with self._storage.transaction() as conn:
            row = self._storage.find_dmp(conn, ins, pro.id_nat)
            self._storage.audit(
                conn,
                self._now_iso(),
                pro.id_nat,
                "status",
                self._storage.patient_ref(ins),
                row.dmp_id if row else None,
            )
        if row is None:
            return {"status": "not_found", "web_access": False, "authorization": "NON_EXISTE"}
        return {
            "status": row.status,
            "web_access": row.web_access,
            "authorization": row.authorization or "NON_EXISTE",
        }

    def write_dmp(self, pro: Professional, key: str, body: CreationIn, action: Action) -> Outcome:
        """TD1.1 creation or TD1.2 reactivation, with TD1.5 web access when asked; only for
        an INS that INSi gave this professional within the hour, with INSi's traits
        (:meth:`InsiOperations.require_answer`). With ``capture``, the consent was captured
        offline: checked by server/offline.py and recorded with its time."""
        payload = body.model_dump(mode="json")
        for block in ("identity", "capture"):
            if payload[block] is None:
                # Hashed as before the block existed: a retry sent across the upgrade still
                # replays its answer.
                del payload[block]
        request_hash = self._storage.request_hash(action.value, payload)
        # A creation recorded offline after its live sending failed (the network went at the
        # summary) carries the live request's key: if that request did reach the service, its
        # answer is the one to replay (same request, the capture block aside), not a refusal.
        live_hash = None
        if "capture" in payload:
            live = {name: value for name, value in payload.items() if name != "capture"}
            live_hash = self._storage.request_hash(action.value, live)
        # A replay is found inside the write transaction anyway; looking first pays when it
        # spares the scrypt of a web account, or a capture's signature check (and its trust
        # in a CA the configuration may since have dropped). The rules below cannot refuse a
        # replay that was accepted: their outcome only changes as a minor comes of age; a
        # capture's age is checked in the transaction, after the idempotency record.
        if (body.web_access is not None or body.capture is not None) and (
            replay := self._peek(pro, key, request_hash, live_hash)
        ) is not None:
            return replay
        capture = None
        if body.capture is not None:
            if body.web_access is not None:
                raise Problem("CAPTURE_WEB_ACCESS")
            capture = verify_capture(
                body.capture,
                pro,
                self._trusted_cas(),
                self._settings.clock(),
                self._settings.offline_consent_max_age,
            )
        ins = self.check_ins(body.patient.ins)
        status, document = self.insi.vigilance(body.identity)
        vigilance = (status.value, document.value)
        if not body.consent.creation:
            raise Problem("CONSENT_MISSING")
        # The names as the client keeps them (RNIV characters, NFC), stored that way.
        last_name = normalize_name(body.patient.last_name)
        first_name = normalize_name(body.patient.first_name, required=False)
        representative = None
        if body.legal_representative is not None:
            typed = body.legal_representative
            rep = make_legal_representative(typed.relationship, typed.last_name, typed.first_name)
            representative = rep.fields()
        birth = BirthDate(body.patient.birth_date)
        if representative is None and is_minor(birth, self._today(), self._settings.majority_age):
            raise Problem("PATIENT_MINOR")
        account = None
        if body.web_access is not None:
            account = self._account(body.web_access.email, body.web_access.mobile)
        consent = body.consent.model_dump()
        identity = {
            **body.patient.model_dump(exclude={"ins"}),
            "last_name": last_name,
            "first_name": first_name,
        }
        ref = self._storage.patient_ref(ins)
        today = self._today()

        def execute(conn: Conn, at: str) -> tuple[int, dict]:
            if capture is not None:
                max_age = self._settings.offline_consent_max_age
                require_fresh(capture, pro, self._settings.clock(), max_age)
            person = self.insi.require_answer(conn, pro, ins, identity, document, today)
            if capture is not None:
                seen = Document(body.identity.document) if body.identity is not None else None
                require_match(capture, pro, consent, representative, seen, person)
            self._storage.lock_patient(conn, ins)
            row = self._storage.find_dmp(conn, ins, pro.id_nat)
            if action is Action.CREATION:
                if row is not None:
                    raise Problem("DMPFound" if row.status == "active" else "DMPClosed")
                dmp_id = self._storage.new_id(conn, "dmps", "dmp_id", new_dmp_id)
                self._storage.insert_dmp(
                    conn, dmp_id, ins, identity, consent, representative, at, vigilance
                )
            else:
                if row is None:
                    raise Problem("DMPNotFound")
                if row.status == "active":
                    raise Problem("DMPFound")
                if account is not None and row.web_access:
                    raise Problem("DMPPatientAccessAlreadyExists")
                dmp_id = row.dmp_id
                self._storage.update_dmp(
                    conn, dmp_id, "active", consent, representative, at, vigilance
                )
            captured_at = (
                capture.captured_at.isoformat(timespec="seconds") if capture is not None else None
            )
            self._storage.record_consent(
                conn, dmp_id, pro.id_nat, action.value, consent, at, captured_at
            )
            self._storage.authorize(conn, dmp_id, pro.id_nat, at)
            outcome = "offline" if capture is not None else None
            self._storage.audit(conn, at, pro.id_nat, action.value, ref, dmp_id, outcome)
            web = self._open_account(conn, dmp_id, account, at) if account else None
            if web is not None:
                self._storage.audit(conn, at, pro.id_nat, "web_access", ref, dmp_id)
            answer = {"dmp_id": dmp_id, "action": action.value, "created_at": at, "web_access": web}
            answer["statement"] = signed_statement(
                self._settings,
                action.value,  # type: ignore[arg-type]
                dmp_id,
                at,
                ins,
                pro,
                patient=identity,
                consent=consent,
                representative=representative is not None,
                online_access=account is not None,
            )
            return (201 if action is Action.CREATION else 200), answer

        outcome = self._commit(pro, key, request_hash, execute, live_hash)
        if not outcome.replayed:
            log.info(
                "%s of %s by %s (patient %s, web access %s, captured offline %s)",
                action.value,
                outcome.body["dmp_id"],
                pro.id_nat,
                ref,
                account is not None,
                capture is not None,
            )
        return outcome

    def _authorised_active_dmp(self, conn: Conn, ins: Ins, pro: Professional):
        """The patient's active DMP, locked for this transaction, on which ``pro`` is
        authorised; a problem otherwise (not found, closed, not authorised)."""
        self._storage.lock_patient(conn, ins)
        row = self._storage.find_dmp(conn, ins, pro.id_nat)
        if row is None:
            raise Problem("DMPNotFound")
        if row.status == "closed":
            raise Problem("DMPClosed")
        _require_authorization(row)
        return row

    def open_web_access(self, pro: Professional, key: str, body: WebAccessRequestIn) -> Outcome:
        """TD1.5: the patient's web account on an active DMP."""
        request_hash = self._storage.request_hash("web_access", body.model_dump(mode="json"))
        if (replay := self._peek(pro, key, request_hash)) is not None:
            return replay
        ins = self.check_ins(body.ins)
        account = self._account(body.email, body.mobile)
        ref = self._storage.patient_ref(ins)

        def execute(conn: Conn, at: str) -> tuple[int, dict]:
            row = self._authorised_active_dmp(conn, ins, pro)
            if row.web_access:
                raise Problem("DMPPatientAccessAlreadyExists")
            web = self._open_account(conn, row.dmp_id, account, at)
            self._storage.audit(conn, at, pro.id_nat, "web_access", ref, row.dmp_id)
            return 201, web

        outcome = self._commit(pro, key, request_hash, execute)
        if not outcome.replayed:
            log.info("web access opened by %s (patient %s)", pro.id_nat, ref)
        return outcome

    def reissue_password(self, pro: Professional, key: str, body: WebAccessReissueIn) -> Outcome:
        """A new initial password for the patient's existing web account (same login), when
        the first one never reached the patient (its answer was lost: a replay carries no
        password). The old hash is replaced, so the old password is void; the new one is
        handed out once, like the first (a replay of this key carries none). Only a
        professional authorised on the DMP may ask (:func:`_require_authorization`)."""
        request_hash = self._storage.request_hash(
            "web_access_reissue", body.model_dump(mode="json")
        )
        if (replay := self._peek(pro, key, request_hash)) is not None:
            return replay
        ins = self.check_ins(body.ins)
        password = new_password()
        password_hash = hash_password(password)  # scrypt: before the write transaction
        ref = self._storage.patient_ref(ins)

        def execute(conn: Conn, at: str) -> tuple[int, dict]:
            row = self._authorised_active_dmp(conn, ins, pro)
            login = self._storage.replace_password(conn, row.dmp_id, password_hash)
            if login is None:
                raise Problem("DMPPatientAccessNotFound")
            self._storage.audit(conn, at, pro.id_nat, "web_access_reissue", ref, row.dmp_id)
            statement = signed_statement(
                self._settings, "password_reissue", row.dmp_id, at, ins, pro
            )
            return 201, {
                "login": login,
                "initial_password": password,
                "already_issued": False,
                "statement": statement,
            }

        outcome = self._commit(pro, key, request_hash, execute)
        if not outcome.replayed:
            log.info("initial password reissued by %s (patient %s)", pro.id_nat, ref)
        return outcome


def _require_authorization(row: DmpRow) -> None:
    """Web access and its password are for a professional authorised on the DMP (status
    VALIDE: whoever created or reactivated it, or was granted access); others get 403."""
    if row.authorization != "VALIDE":
        raise Problem("DMP_NOT_AUTHORIZED")
