"""The service enforces the client's identity and contact rules (issue 10, point 5), from the
same module (proclient.core.domain), on a real server over HTTPS, on SQLite and PostgreSQL, in test
AND production mode: INS values with the NIR's shape and key (NIA included), one DMP per
person across OIDs, French mobiles only, RFC 5321 email limits, RNIV names.

Requests are written as JSON by hand (not through the client, which would refuse them first):
this is what an outside caller can send. Every refusal is problem+json with its stable code
and the French sentence of proclient.core.problems, and leaves no DMP behind. These rules come
before the INSi gate (a refusal names the rule broken); an accepted creation is one INSi
answered first (:meth:`Service.ready`)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from proclient.core.domain import (
    OID_INS_NIA,
    OID_INS_NIR,
    OID_INS_NIR_DEMO,
    OID_INS_NIR_TEST,
    Ins,
    compact_nir,
)
from proclient.core.problems import problem_message
from proclient.server.database import MIGRATIONS, open_database
from proclient.server.register import RegisterIdentity
from proclient.server.storage import Storage

from .conftest import RunningServer
from .helpers import make_nir, put_in_register

# Per mode: the OID of the first creation, and another OID naming the same person.
OIDS = {
    "test": (OID_INS_NIR_TEST, OID_INS_NIR_DEMO),
    "production": (OID_INS_NIR, OID_INS_NIA),
}
ADULT = "19800101"


@dataclass
class Service:
    """One running service, a session on it, and the INS OIDs its mode accepts."""

    server: RunningServer
    http: httpx.Client
    oid: str
    other_oid: str
    _order: int = 100

    def nir(self) -> str:
        """A well-formed NIR nobody used yet in this service."""
        self._order += 1
        return make_nir(1, 1980, "01", self._order)

    def ready(
        self,
        nir: str,
        oid: str | None = None,
        *,
        last_name: str = "LE GOFF",
        given_names: tuple[str, ...] = ("GERARD",),
        birth_date: str = ADULT,
        sex: str = "M",
    ) -> None:
        """The person in the service's INSi register under ``oid`` (INSi's word on them:
        another OID for the same person replaces the first) and looked up by this session."""
        identity = RegisterIdentity(
            Ins(compact_nir(nir), oid or self.oid), last_name, given_names, sex, birth_date
        )
        put_in_register(self.server.storage, identity)
        card = {
            "last_name": last_name,
            "first_name": " ".join(given_names),
            "birth_date": birth_date,
            "nir": nir,
            "rank": 1,
        }
        answer = self.http.post("/v1/insi/card", json=card)
        assert answer.status_code == 200 and answer.json()["code"] == "00", answer.text

    def post(self, path: str, body: dict) -> httpx.Response:
        return self.http.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})

    def dmp_count(self) -> int:
        with self.server.storage.read() as conn:
            return conn.execute("SELECT COUNT(*) FROM dmps").fetchone()[0]

    def stored(self, column: str) -> list:
        with self.server.storage.read() as conn:
            query = f"SELECT {column} FROM dmps ORDER BY created_at, dmp_id"  # noqa: S608
            return [row[0] for row in conn.execute(query).fetchall()]


def creation(nir: str, oid: str, **patient: object) -> dict:
    return {
        "patient": {
            "ins": {"value": nir, "oid": oid},
            "last_name": "LE GOFF",
            "first_name": "GERARD",
            "birth_date": ADULT,
            "sex": "M",
            **patient,
        },
        "consent": {"creation": True, "samu_access": True, "break_glass_access": True},
        "legal_representative": None,
        "web_access": None,
    }


def assert_refused(answer: httpx.Response, code: str, status: int = 422, what: str = "") -> None:
    """A problem+json refusal with ``code`` and its one French sentence."""
    assert answer.status_code == status, (what, answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == code, (what, problem)
    assert problem["detail"] == problem_message(code)


@pytest.fixture(params=["test", "production"])
def service(request, serve: Callable[..., RunningServer], tls, credential):
    mode = request.param
    server = serve(mode=mode)
    with httpx.Client(base_url=server.base_url, verify=tls.context, timeout=30) as http:
        challenge = http.post("/v1/auth/challenge").json()
        signature = credential.sign(base64.b64decode(challenge["nonce"]))
        session = http.post(
            "/v1/auth/session",
            json={
                "challenge_id": challenge["challenge_id"],
                "certificate": credential.certificate_pem.decode(),
                "signature": base64.b64encode(signature).decode(),
            },
        )
        assert session.status_code == 200, session.text
        http.headers["Authorization"] = f"Bearer {session.json()['token']}"
        yield Service(server, http, *OIDS[mode])


# --- INS -------------------------------------------------------------------------------------


def test_ins_values_without_the_nir_shape_are_refused(service):
    # Under the NIA OID in production (the probe's finding), under DEMO in test mode.
    for value in ("<script>alert(1)</script>", "ABCDEFGHIJKLMNOP", "9" * 32):
        for oid in (service.other_oid, service.oid):
            what = f"{value} under {oid}"
            ins = {"value": value, "oid": oid}
            answer = service.post("/v1/dmp", creation(value, oid))
            assert_refused(answer, "NIR_FORMAT", what=what)
            answer = service.post("/v1/dmp/status", {"ins": ins})
            assert_refused(answer, "NIR_FORMAT", what=what)
            answer = service.post("/v1/dmp/web-access", {"ins": ins, "email": "p@exemple.fr"})
            assert_refused(answer, "NIR_FORMAT", what=what)
    assert service.dmp_count() == 0


def test_an_ins_with_a_wrong_key_is_refused_under_every_oid(service):
    nir = service.nir()
    wrong = nir[:13] + f"{(int(nir[13:]) + 1) % 100:02d}"
    for oid in (service.oid, service.other_oid):
        assert_refused(service.post("/v1/dmp", creation(wrong, oid)), "NIR_KEY")
    assert service.dmp_count() == 0


def test_one_person_has_one_dmp_whichever_oid_names_them(service):
    nir = service.nir()
    service.ready(nir)
    first = service.post("/v1/dmp", creation(nir, service.oid))
    assert first.status_code == 201, first.text
    # The same 15 characters under the other OID (NIR then NIA; TEST then DEMO): one person,
    # once INSi gives that OID (no answer for it yet: the gate refuses first).
    refused = service.post("/v1/dmp", creation(nir, service.other_oid))
    assert_refused(refused, "INSI_REQUIRED")
    service.ready(nir, service.other_oid)
    assert_refused(service.post("/v1/dmp", creation(nir, service.other_oid)), "DMPFound", 409)
    spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    assert_refused(service.post("/v1/dmp", creation(spaced, service.other_oid)), "DMPFound", 409)
    assert service.dmp_count() == 1
    for oid in (service.oid, service.other_oid):
        status = service.post("/v1/dmp/status", {"ins": {"value": nir, "oid": oid}})
        assert status.json() == {"status": "active", "web_access": False, "authorization": "VALIDE"}
    # The web access found it under the other OID too, and once only.
    web = {"ins": {"value": nir, "oid": service.other_oid}, "mobile": "06 12 34 56 78"}
    opened = service.post("/v1/dmp/web-access", web)
    assert opened.status_code == 201, opened.text
    again = {"ins": {"value": nir, "oid": service.oid}, "email": "patient@exemple.fr"}
    assert_refused(service.post("/v1/dmp/web-access", again), "DMPPatientAccessAlreadyExists", 409)
    status = service.post("/v1/dmp/status", {"ins": {"value": nir, "oid": service.oid}})
    assert status.json()["web_access"] is True
    # A person first known under the other OID is the same person the other way round.
    other = service.nir()
    service.ready(other, service.other_oid)
    assert service.post("/v1/dmp", creation(other, service.other_oid)).status_code == 201
    service.ready(other, service.oid)
    assert_refused(service.post("/v1/dmp", creation(other, service.oid)), "DMPFound", 409)
    assert service.dmp_count() == 2


def test_the_mode_still_decides_which_oids_are_accepted(service):
    refused = {
        "test": ((OID_INS_NIR, "INS_REAL_ON_TEST"),),
        "production": (
            (OID_INS_NIR_TEST, "INS_TEST_ON_PRODUCTION"),
            (OID_INS_NIR_DEMO, "INS_TEST_ON_PRODUCTION"),
        ),
    }[service.server.settings.mode]
    for oid, code in (*refused, ("1.2.250.1.213.1.4.99", "INS_OID_UNKNOWN")):
        assert_refused(service.post("/v1/dmp", creation(service.nir(), oid)), code)
    # The INS-NIA has no test variant: a test service takes it too (then asks for INSi).
    nia = service.post("/v1/dmp", creation(service.nir(), OID_INS_NIA))
    assert_refused(nia, "INSI_REQUIRED")
    assert service.dmp_count() == 0


# --- channels --------------------------------------------------------------------------------


def test_foreign_mobiles_are_refused(service):
    nir = service.nir()
    service.ready(nir)
    assert service.post("/v1/dmp", creation(nir, service.oid)).status_code == 201
    for mobile in ("+1 202 555 0143", "+44 7911 123456", "+49 151 12345678"):
        body = creation(service.nir(), service.oid)
        body["web_access"] = {"email": None, "mobile": mobile}
        assert_refused(service.post("/v1/dmp", body), "MOBILE", what=mobile)
        web = {"ins": {"value": nir, "oid": service.oid}, "mobile": mobile}
        assert_refused(service.post("/v1/dmp/web-access", web), "MOBILE", what=mobile)
    assert service.dmp_count() == 1
    status = service.post("/v1/dmp/status", {"ins": {"value": nir, "oid": service.oid}})
    assert status.json()["web_access"] is False


def test_a_landline_is_not_a_mobile(service):
    body = creation(service.nir(), service.oid)
    body["web_access"] = {"email": None, "mobile": "01 23 45 67 89"}
    assert_refused(service.post("/v1/dmp", body), "MOBILE_NOT_MOBILE")


def test_emails_beyond_rfc_5321_or_with_hidden_characters_are_refused(service):
    for email in ("a" * 65 + "@exemple.fr", "jean\u200b@exemple.fr", "jean\x1b[2J@exemple.fr"):
        body = creation(service.nir(), service.oid)
        body["web_access"] = {"email": email, "mobile": None}
        assert_refused(service.post("/v1/dmp", body), "EMAIL", what=repr(email))
    assert service.dmp_count() == 0


# --- names -----------------------------------------------------------------------------------

BAD_NAMES = {
    "ANSI escape": "\x1b[31mDUPONT\x1b[0m",
    "CR/LF": "DUPONT\r\nMARTIN",
    "RTL override": "DUPONT\u202eTNOPUD",
    "zero-width space": "DU\u200bPONT",
    "only spaces": "   ",
}


@pytest.mark.parametrize("field", ["last_name", "first_name"])
def test_patient_names_with_control_or_invisible_characters_are_refused(service, field):
    for label, value in BAD_NAMES.items():
        body = creation(service.nir(), service.oid, **{field: value})
        assert_refused(service.post("/v1/dmp", body), "NAME_CHARSET", what=f"{field} {label}")
    assert service.dmp_count() == 0


@pytest.mark.parametrize("field", ["last_name", "first_name"])
def test_representative_names_with_control_or_invisible_characters_are_refused(service, field):
    for label, value in BAD_NAMES.items():
        body = creation(service.nir(), service.oid, birth_date="20150603")
        body["legal_representative"] = {
            "relationship": "MTH",
            "last_name": "DURAND",
            "first_name": "Sophie",
            field: value,
        }
        # Blank is the representative's missing name (the client's own code); else charset.
        code = "REPRESENTATIVE_NAME" if label == "only spaces" else "NAME_CHARSET"
        assert_refused(service.post("/v1/dmp", body), code, what=f"{field} {label}")
    assert service.dmp_count() == 0


def test_a_minor_still_needs_a_legal_representative(service):
    nir = make_nir(2, 2015, "06", 7)
    service.ready(nir, last_name="DURAND", given_names=("LEA",), birth_date="20150603", sex="F")
    traits = {"last_name": "DURAND", "first_name": "LEA", "birth_date": "20150603", "sex": "F"}
    assert_refused(service.post("/v1/dmp", creation(nir, service.oid, **traits)), "PATIENT_MINOR")
    body = creation(nir, service.oid, **traits)
    body["legal_representative"] = {
        "relationship": "MTH",
        "last_name": "d\u2019Arc",
        "first_name": "Jeanne",
    }
    assert service.post("/v1/dmp", body).status_code == 201
    assert service.stored("legal_representative") == [
        '{"relationship": "MTH", "last_name": "D\'ARC", "first_name": "Jeanne"}'
    ]


# --- what stays accepted ---------------------------------------------------------------------


def test_french_names_and_channels_are_accepted_and_stored_normalised(service):
    """INSi's traits, as a client may send them (typographic apostrophe, runs of spaces),
    pass the gate and are stored normalised; French mobiles of every kind are taken."""
    accepted = [
        ("D\u2019ARTAGNAN-ELODIE  DE LA TOUR", "MARIE-ANGE  ZOE", "06 12 34 56 78"),
        ("BEN SAID", "KARIM", "+33 7 81 23 45 67"),
        ("O\u2019NEILL", "ELODIE", "0690 12 34 56"),  # a Guadeloupe mobile
    ]
    for last, first, mobile in accepted:
        nir = service.nir()
        insi_last, insi_first = (
            last.replace("\u2019", "'").replace("  ", " "),
            " ".join(first.split()),
        )
        service.ready(nir, last_name=insi_last, given_names=tuple(insi_first.split()))
        body = creation(nir, service.oid, last_name=last, first_name=first)
        body["web_access"] = {"email": "patient@exemple.fr", "mobile": mobile}
        answer = service.post("/v1/dmp", body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["web_access"]["initial_password"]
        service.server.clock.advance(seconds=1)  # stored() lists in creation order
    # A person INSi knows without a given name (found by the card's NIR and birth date).
    nir = service.nir()
    service.ready(nir, given_names=())
    empty_first = creation(nir, service.oid, first_name="")
    assert service.post("/v1/dmp", empty_first).status_code == 201
    assert service.stored("last_name") == [
        "D'ARTAGNAN-ELODIE DE LA TOUR",
        "BEN SAID",
        "O'NEILL",
        "LE GOFF",
    ]
    assert service.stored("first_name") == ["MARIE-ANGE ZOE", "KARIM", "ELODIE", ""]
    with service.server.storage.read() as conn:
        mobiles = [row[0] for row in conn.execute("SELECT mobile FROM web_accounts").fetchall()]
    assert sorted(mobiles) == ["+33612345678", "+33781234567", "+590690123456"]


# --- migration 4: the person key of existing DMPs ---------------------------------------------


def test_migration_4_backfills_the_person_key_and_sets_duplicates_aside(database_url, monkeypatch):
    """A database at version 3 holding one person twice (the same 15 characters under the NIR
    and the NIA OIDs, as the service allowed before) upgrades without failing: the active DMP
    keeps the person, the other is set aside (NULL key), everyone else is back-filled."""
    import proclient.server.database as database

    url = database_url()
    monkeypatch.setattr(database, "MIGRATIONS", tuple(m for m in MIGRATIONS if m[0] < 4))
    old = open_database(url)
    try:
        old.migrate()
        rows = [
            # (dmp_id, value, oid, status, created_at)
            ("DMP-A", "152033523804587", OID_INS_NIR, "closed", "2024-01-01T10:00:00+00:00"),
            ("DMP-B", "152033523804587", OID_INS_NIA, "active", "2024-02-01T10:00:00+00:00"),
            ("DMP-C", "285077505612370", OID_INS_NIR_TEST, "active", "2024-01-01T10:00:00+00:00"),
            ("DMP-D", "285077505612370", OID_INS_NIR_DEMO, "active", "2024-03-01T10:00:00+00:00"),
            ("DMP-E", "215067511203450", OID_INS_NIR, "active", "2024-01-01T10:00:00+00:00"),
            ("DMP-F", "215067511203450", OID_INS_NIR_TEST, "active", "2024-01-01T10:00:00+00:00"),
        ]
        with old.transaction() as conn:
            for dmp_id, value, oid, status, at in rows:
                conn.execute(
                    "INSERT INTO dmps (dmp_id, ins_value, ins_oid, last_name, first_name, "
                    "birth_date, sex, status, consent_creation, samu_access, "
                    "break_glass_access, created_at, updated_at) "
                    "VALUES (?, ?, ?, 'X', 'Y', '19520314', 'M', ?, 1, 1, 1, ?, ?)",
                    (dmp_id, value, oid, status, at, at),
                )
    finally:
        old.close()
    monkeypatch.undo()

    storage = Storage(url)
    try:
        assert storage.initialize() == 3
        with storage.read() as conn:
            keys = dict(conn.execute("SELECT dmp_id, person_key FROM dmps").fetchall())
        assert keys == {
            "DMP-A": None,  # closed: set aside for the active one
            "DMP-B": "real:152033523804587",
            "DMP-C": "test:285077505612370",  # both active: the oldest keeps it
            "DMP-D": None,
            "DMP-E": "real:215067511203450",  # a real and a test person: two people
            "DMP-F": "test:215067511203450",
        }
        from proclient.core.domain import Ins

        with storage.read() as conn:
            for oid in (OID_INS_NIR, OID_INS_NIA):
                found = storage.find_dmp(conn, Ins("152033523804587", oid), "")
                assert found is not None and found.dmp_id == "DMP-B"
        # The unique index stands: a second key for one person cannot be written.
        with pytest.raises(storage.db.integrity_errors), storage.transaction() as conn:
            conn.execute(
                "UPDATE dmps SET person_key = 'real:152033523804587' WHERE dmp_id = 'DMP-A'"
            )
    finally:
        storage.close()
