"""TD1.1 with a creation captured offline (proclient.core.capture, server/offline.py), against the
real service over HTTPS: the consent record signed at the patient's by the professional's
credential, sent with the creation once the network is back, after INSi as usual."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from proclient.core.capture import Capture
from proclient.core.domain import (
    OID_INS_NIR_TEST,
    BirthDate,
    Consent,
    IdentitySource,
    Ins,
    LegalRepresentative,
    Patient,
    Relationship,
    WebAccess,
    make_legal_representative,
)
from proclient.core.identity import CardQuery, Document, HeldIdentity, InsiCode
from proclient.core.settings import Paths
from proclient.credentials.software import unlock_demo
from proclient.server.pki import create_ca, issue_professional
from proclient.service.client import creation_body

from .helpers import (
    BEN_SAID,
    LE_GOFF,
    LEA_DURAND,
    creation,
    identity_of,
    insi_ready,
    patient,
    put_in_register,
)

GARNIER = patient("162104410902360", "19621005", "GARNIER", "PAUL")
GARNIER_EARLIER = "162104410901073"  # the matricule on his card (proclient/core/demo_people.py)
MOTHER = make_legal_representative("MTH", "Durand", "Sophie")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def held_of(who: Patient, *, nir: str | None = "own", birth: str | None = None) -> HeldIdentity:
    """``who`` as the workstation held them offline: read from their card (their NIR), or
    typed without a NIR (``nir=None``)."""
    return HeldIdentity(
        last_name=who.last_name,
        first_name=who.first_name,
        birth_date=BirthDate(birth or who.birth_date.raw),
        sex=who.sex,
        nir=who.ins.value if nir == "own" else nir,
        source=IdentitySource.CARD if nir else IdentitySource.TYPED,
        rank=1 if nir else None,
    )


def captured(
    who: Patient,
    signer,
    at: datetime,
    *,
    consent: Consent | None = None,
    representative: LegalRepresentative | None = None,
    document: Document = Document.ID_CARD,
    held: HeldIdentity | None = None,
    id_nat: str | None = None,
) -> Capture:
    return Capture(
        held=held or held_of(who),
        document=document,
        consent=consent or Consent(creation=True),
        legal_representative=representative,
        id_nat=id_nat or signer.professional.id_nat,
        captured_at=at,
    )


def capture_block(capture: Capture, signer, *, record: bytes | None = None) -> dict:
    """The ``capture`` of a creation: ``capture``'s record signed by ``signer`` (a
    SoftwareCredential); ``record``: other bytes sent in its place."""
    signed = capture.record()
    return {
        "record": b64(record if record is not None else signed),
        "signature": b64(signer.sign(signed)),
        "certificate": signer.certificate_pem.decode(),
    }


def body_for(
    who: Patient,
    capture: dict | None,
    *,
    consent: Consent | None = None,
    representative: LegalRepresentative | None = None,
    document: str | None = "id_card",
    web: WebAccess | None = None,
) -> dict:
    body = creation_body(creation(who, consent=consent, representative=representative, web=web))
    if document is not None:
        body["identity"] = {
            "status": "recuperee" if document == "none" else "qualifiee",
            "document": document,
        }
    body["capture"] = capture
    return body


class Poster:
    """POST /v1/dmp under the logged-in client's session."""

    def __init__(self, server, tls, connected) -> None:
        self.server, self.tls, self.connected = server, tls, connected

    async def __call__(self, body: dict, key: str | None = None) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self.connected._token}",
            "Idempotency-Key": key or str(uuid.uuid4()),
        }
        async with httpx.AsyncClient(base_url=self.server.base_url, verify=self.tls.context) as h:
            return await h.post("/v1/dmp", json=body, headers=headers)


@pytest.fixture
def post(server, tls, connected) -> Poster:
    return Poster(server, tls, connected)


@pytest.fixture
def insi(server, connected):
    async def ready(*people):
        await insi_ready(server.storage, connected, *people)

    return ready


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    return response.json()["code"]


def rows(storage, query: str) -> list[tuple]:
    with storage.read() as conn:
        return [tuple(row) for row in conn.execute(query).fetchall()]


# --- accepted ---------------------------------------------------------------------------------


async def later(server, connected, credential, days: float) -> None:
    """``days`` later on the service's clock, logged in again (sessions last 15 minutes).
    Captures are made at the clock's start: the test professionals' certificates are only
    a few minutes old."""
    server.clock.advance(days=days)
    await connected.login(credential)


async def test_accepted_capture_creates_the_dmp_with_the_time_the_consent_was_given(
    server, post, insi, connected, credential, caplog
):
    at = server.clock.now
    capture = captured(LE_GOFF, credential, at)
    await later(server, connected, credential, days=2)
    await insi(LE_GOFF)

    response = await post(body_for(LE_GOFF, capture_block(capture, credential)))

    assert response.status_code == 201, response.text
    dmp_id = response.json()["dmp_id"]
    consents = rows(server.storage, "SELECT dmp_id, at, captured_at, action FROM consents")
    assert consents == [
        (dmp_id, response.json()["created_at"], at.isoformat(timespec="seconds"), "creation")
    ]
    audit = rows(server.storage, "SELECT outcome FROM audit WHERE action = 'creation'")
    assert audit == [("offline",)]
    assert LE_GOFF.ins.value not in caplog.text and LE_GOFF.last_name not in caplog.text


async def test_live_consent_has_no_capture_time(server, post, insi):
    await insi(LE_GOFF)
    response = await post(body_for(LE_GOFF, None))
    assert response.status_code == 201, response.text
    assert rows(server.storage, "SELECT captured_at FROM consents") == [(None,)]
    assert rows(server.storage, "SELECT outcome FROM audit WHERE action = 'creation'") == [(None,)]


async def test_a_live_request_that_reached_the_service_is_replayed_for_its_capture(
    server, post, insi, credential
):
    """The network went at the summary after the live request reached the service (its
    answer lost): the professional recorded the creation offline under the live request's
    key. Sent later, the capture replays the live answer: one DMP, no refusal."""
    await insi(LE_GOFF)
    key = str(uuid.uuid4())
    live = await post(body_for(LE_GOFF, None), key)
    assert live.status_code == 201, live.text
    capture = captured(LE_GOFF, credential, server.clock.now)

    again = await post(body_for(LE_GOFF, capture_block(capture, credential)), key)

    assert again.status_code == 201, again.text
    assert again.json()["dmp_id"] == live.json()["dmp_id"]
    assert rows(server.storage, "SELECT COUNT(*) FROM dmps") == [(1,)]
    # Another request under that key is still refused (the capture block aside only).
    other = await post(
        body_for(LE_GOFF, capture_block(capture, credential), consent=Consent(True, False)), key
    )
    assert code_of(other) == "IDEMPOTENCY_KEY_REUSED"


async def test_a_live_request_that_never_arrived_leaves_the_capture_to_create(
    server, post, insi, credential
):
    await insi(LE_GOFF)
    capture = captured(LE_GOFF, credential, server.clock.now)
    response = await post(body_for(LE_GOFF, capture_block(capture, credential)), str(uuid.uuid4()))
    assert response.status_code == 201, response.text
    assert rows(server.storage, "SELECT captured_at IS NOT NULL FROM consents") == [(1,)]


async def test_resend_under_the_same_key_replays_one_dmp_even_once_the_capture_is_old(
    server, post, insi, connected, credential
):
    await insi(LE_GOFF)
    body = body_for(
        LE_GOFF, capture_block(captured(LE_GOFF, credential, server.clock.now), credential)
    )
    key = str(uuid.uuid4())
    first = await post(body, key)
    again = await post(body, key)
    await later(server, connected, credential, days=30)
    late = await post(body, key)

    assert first.status_code == again.status_code == late.status_code == 201, late.text
    assert first.json()["dmp_id"] == again.json()["dmp_id"] == late.json()["dmp_id"]
    assert again.headers["Idempotent-Replayed"] == late.headers["Idempotent-Replayed"] == "true"
    assert rows(server.storage, "SELECT COUNT(*) FROM dmps") == [(1,)]
    assert rows(server.storage, "SELECT COUNT(*) FROM consents") == [(1,)]


async def test_a_held_nir_that_is_an_earlier_matricule_is_this_patient(
    server, post, connected, credential
):
    history = (Ins(GARNIER_EARLIER, OID_INS_NIR_TEST),)
    put_in_register(server.storage, identity_of(GARNIER, birthplace="44109", history=history))
    answer = await connected.insi_by_card(
        CardQuery("GARNIER", "Paul", BirthDate("19621005"), GARNIER_EARLIER)
    )
    assert answer.code is InsiCode.FOUND and answer.identity.ins == GARNIER.ins
    held = held_of(GARNIER, nir=GARNIER_EARLIER)
    capture = captured(GARNIER, credential, server.clock.now, held=held)

    response = await post(body_for(GARNIER, capture_block(capture, credential)))

    assert response.status_code == 201, response.text


async def test_a_typed_identity_without_nir_is_this_patient_by_birth_date_and_sex(
    server, post, insi, credential
):
    await insi(LE_GOFF)
    capture = captured(LE_GOFF, credential, server.clock.now, held=held_of(LE_GOFF, nir=None))
    response = await post(body_for(LE_GOFF, capture_block(capture, credential)))
    assert response.status_code == 201, response.text


# --- CAPTURE_INVALID --------------------------------------------------------------------------


async def test_a_signature_that_does_not_verify_is_invalid(server, post, insi, credential):
    await insi(LE_GOFF)
    block = capture_block(captured(LE_GOFF, credential, server.clock.now), credential)
    signature = bytearray(base64.b64decode(block["signature"]))
    signature[10] ^= 0x01
    block["signature"] = b64(bytes(signature))
    assert code_of(await post(body_for(LE_GOFF, block))) == "CAPTURE_INVALID"
    block["signature"] = "pas du base64 !"
    assert code_of(await post(body_for(LE_GOFF, block))) == "CAPTURE_INVALID"


async def test_a_record_edited_after_signing_is_invalid(server, post, insi, credential):
    await insi(LE_GOFF)
    signed = captured(
        LE_GOFF, credential, server.clock.now, consent=Consent(creation=True, samu_access=False)
    )
    edited = captured(LE_GOFF, credential, server.clock.now)  # SAMU access ticked afterwards
    block = capture_block(signed, credential, record=edited.record())
    assert code_of(await post(body_for(LE_GOFF, block))) == "CAPTURE_INVALID"


async def test_a_record_that_is_not_one_is_invalid(server, post, insi, credential):
    await insi(LE_GOFF)
    record = captured(LE_GOFF, credential, server.clock.now).record().replace(b",", b", ", 1)
    block = {
        "record": b64(record),
        "signature": b64(credential.sign(record)),
        "certificate": credential.certificate_pem.decode(),
    }
    assert code_of(await post(body_for(LE_GOFF, block))) == "CAPTURE_INVALID"


@pytest.mark.parametrize("whose_record", ["signer", "session"])
async def test_another_professionals_capture_is_invalid(
    server, post, insi, credential, pki, whose_record
):
    """The nurse signed; the pharmacist's session sends it (with the nurse's idNat in the
    record, or the pharmacist's under the nurse's signature)."""
    nurse = unlock_demo(pki.professionals[1])
    await insi(LE_GOFF)
    id_nat = nurse.professional.id_nat if whose_record == "signer" else None
    capture = captured(
        LE_GOFF, nurse, server.clock.now, id_nat=id_nat or credential.professional.id_nat
    )
    block = capture_block(capture, nurse)
    assert code_of(await post(body_for(LE_GOFF, block))) == "CAPTURE_INVALID"


class ForeignCredential:
    """The pharmacist's name on a certificate from a CA the service does not trust."""

    def __init__(self, professional) -> None:
        self._issued = issue_professional(create_ca("another CA"), professional)
        self.professional = professional
        self.certificate_pem = self._issued.certificate_pem

    def sign(self, data: bytes) -> bytes:
        return self._issued.key.sign(data, padding.PKCS1v15(), hashes.SHA256())


async def test_a_certificate_from_another_ca_is_invalid(server, post, insi, credential):
    await insi(LE_GOFF)
    forger = ForeignCredential(credential.professional)
    block = capture_block(captured(LE_GOFF, forger, server.clock.now), forger)
    assert code_of(await post(body_for(LE_GOFF, block))) == "CAPTURE_INVALID"


async def test_a_capture_time_in_the_future_is_invalid(server, post, insi, credential):
    await insi(LE_GOFF)
    soon = server.clock.now + timedelta(minutes=4)  # within the clock skew
    late = server.clock.now + timedelta(minutes=6)
    refused = await post(
        body_for(LE_GOFF, capture_block(captured(LE_GOFF, credential, late), credential))
    )
    assert code_of(refused) == "CAPTURE_INVALID"
    accepted = await post(
        body_for(LE_GOFF, capture_block(captured(LE_GOFF, credential, soon), credential))
    )
    assert accepted.status_code == 201, accepted.text


# --- CONSENT_STALE ----------------------------------------------------------------------------


async def test_a_consent_captured_eight_days_ago_is_stale(
    server, post, insi, connected, credential
):
    capture = captured(LE_GOFF, credential, server.clock.now)
    await later(server, connected, credential, days=8)
    await insi(LE_GOFF)
    assert code_of(await post(body_for(LE_GOFF, capture_block(capture, credential)))) == (
        "CONSENT_STALE"
    )
    assert rows(server.storage, "SELECT COUNT(*) FROM idempotency") == [(0,)]


async def test_a_longer_maximum_age_accepts_it(serve, tls, pki, credential):
    from proclient.service.client import DmpServiceClient

    server = serve(offline_consent_max_age=timedelta(days=10))
    capture = captured(LE_GOFF, credential, server.clock.now)
    old = captured(BEN_SAID, credential, server.clock.now)
    server.clock.advance(days=8)
    client = DmpServiceClient(server.base_url, verify=tls.context)
    try:
        await client.login(credential)
        await insi_ready(server.storage, client, LE_GOFF)
        response = await Poster(server, tls, client)(
            body_for(LE_GOFF, capture_block(capture, credential))
        )
        assert response.status_code == 201, response.text
        server.clock.advance(days=2, seconds=1)  # 10 days and a second
        await client.login(credential)
        await insi_ready(server.storage, client, BEN_SAID)
        stale = await Poster(server, tls, client)(
            body_for(BEN_SAID, capture_block(old, credential))
        )
        assert code_of(stale) == "CONSENT_STALE"
    finally:
        await client.aclose()


# --- CAPTURE_MISMATCH -------------------------------------------------------------------------


def _mismatches():
    """(name, who, what the record says, what the request says)."""
    adult = {"consent": None, "representative": None, "document": Document.ID_CARD}
    return [
        (
            "consent flags",
            LE_GOFF,
            {**adult, "consent": Consent(creation=True, break_glass_access=False)},
            {"document": "id_card"},
        ),
        (
            "representative",
            LEA_DURAND,
            {**adult, "representative": MOTHER, "document": Document.BIRTH_CERTIFICATE},
            {
                "document": "birth_certificate",
                "representative": make_legal_representative("FTH", "Durand", "Marc"),
            },
        ),
        ("document", LE_GOFF, {**adult, "document": Document.PASSPORT}, {"document": "id_card"}),
        ("no identity block", LE_GOFF, {**adult, "document": Document.NONE}, {"document": None}),
        (
            "another person's NIR",
            LE_GOFF,
            {**adult, "held": held_of(LE_GOFF, nir=BEN_SAID.ins.value)},
            {"document": "id_card"},
        ),
        (
            "another birth date",
            LE_GOFF,
            {**adult, "held": held_of(LE_GOFF, nir=None, birth="19520315")},
            {"document": "id_card"},
        ),
    ]


@pytest.mark.parametrize(
    ("who", "recorded", "sent"),
    [case[1:] for case in _mismatches()],
    ids=[case[0] for case in _mismatches()],
)
async def test_a_capture_that_is_not_this_requests_is_a_mismatch(
    server, post, insi, credential, who, recorded, sent
):
    await insi(who, BEN_SAID)
    capture = captured(who, credential, server.clock.now, **recorded)
    body = body_for(who, capture_block(capture, credential), **sent)
    assert code_of(await post(body)) == "CAPTURE_MISMATCH"


async def test_a_refusal_stores_nothing_and_the_corrected_request_works_under_the_same_key(
    server, post, insi, credential
):
    """The representative's name typed in lower case offline is the same once normalised."""
    await insi(LEA_DURAND)
    typed = LegalRepresentative(Relationship("MTH"), "durand", "Sophie")
    capture = captured(
        LEA_DURAND,
        credential,
        server.clock.now,
        representative=typed,
        document=Document.BIRTH_CERTIFICATE,
    )
    block = capture_block(capture, credential)
    key = str(uuid.uuid4())
    father = make_legal_representative("FTH", "Durand", "Marc")
    wrong = body_for(LEA_DURAND, block, representative=father, document="birth_certificate")
    right = body_for(LEA_DURAND, block, representative=MOTHER, document="birth_certificate")

    assert code_of(await post(wrong, key)) == "CAPTURE_MISMATCH"
    assert rows(server.storage, "SELECT COUNT(*) FROM idempotency") == [(0,)]
    corrected = await post(right, key)
    assert corrected.status_code == 201, corrected.text
    assert "Idempotent-Replayed" not in corrected.headers


# --- web access -------------------------------------------------------------------------------


async def test_web_access_with_a_capture_is_refused(server, post, insi, credential):
    await insi(LE_GOFF)
    block = capture_block(captured(LE_GOFF, credential, server.clock.now), credential)
    web = WebAccess(email="gerard.legoff@exemple.fr", mobile=None)
    assert code_of(await post(body_for(LE_GOFF, block, web=web))) == "CAPTURE_WEB_ACCESS"
    assert rows(server.storage, "SELECT COUNT(*) FROM dmps") == [(0,)]


# --- the setting ------------------------------------------------------------------------------


def test_the_offline_consent_days_setting_reaches_the_service(tmp_path, pki):
    from proclient.core.domain import DomainError
    from proclient.server import serving

    config_file = tmp_path / "config" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[server]\noffline_consent_days = 10\n", encoding="utf-8")
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "log")
    config = serving.load_serve_config(
        paths, trusted_ca=pki.ca_cert_path, plain_http=True, database=str(tmp_path / "d.db")
    )
    app = serving.build_app(config)
    try:
        assert app.state.settings.offline_consent_max_age == timedelta(days=10)
    finally:
        app.state.storage.close()
    default = serving.load_serve_config(Paths(tmp_path / "no", tmp_path / "data", tmp_path / "l"))
    assert default.offline_consent_days == 7
    for wrong in ("0", "91"):
        config_file.write_text(f"[server]\noffline_consent_days = {wrong}\n", encoding="utf-8")
        with pytest.raises(DomainError) as error:
            serving.load_serve_config(paths)
        assert "server.offline_consent_days" in error.value.message
