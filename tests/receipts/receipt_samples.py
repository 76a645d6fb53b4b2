"""Demo patients and receipts shared by the receipt tests (imported by name: the test
directory is on sys.path under pytest's default import mode)."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime

from pypdf import PdfReader

from proclient.core.demo_people import DEMO_REGISTER
from proclient.core.domain import (
    Action,
    BirthDate,
    Consent,
    IdentitySource,
    Ins,
    LegalRepresentative,
    Patient,
    Professional,
    Relationship,
    Sex,
    WebAccess,
    mask_email,
    mask_mobile,
    sex_from_nir,
)
from proclient.core.identity import (
    Document,
    HeldIdentity,
    IdentityCheck,
    InsiIdentity,
    InsiTraits,
    differences,
    identity_status,
)
from proclient.core.records import CreationReceipt, CreationRequest, SecretsSheet

AT = datetime(2021, 3, 14, 9, 30, 5, tzinfo=UTC)  # 10:30:05 in Paris (winter time)

PHARMACIST = Professional("899700024450", "MARTIN", "Zoé", "21", "Pharmacie du Cœur de Straße")


def _register(ins: str) -> InsiIdentity:
    """INSi's identity for ``ins`` from the demo register (upper case, no diacritics)."""
    (entry,) = (entry for entry in DEMO_REGISTER if entry.ins == ins)
    return InsiIdentity(
        Ins(entry.ins, entry.oid),
        InsiTraits(
            entry.birth_name,
            entry.given_names,
            Sex(entry.sex),
            BirthDate(entry.birth_date),
            entry.birthplace,
        ),
        tuple(Ins(value, oid) for value, oid in entry.history),
    )


def _check(last, first, nir, born, document, source=IdentitySource.CARD) -> IdentityCheck:
    """The identity check as the flow makes it: the identity held (card or typed), INSi's
    identity for that NIR, the differences, the document seen and the status it gives."""
    held = HeldIdentity(
        last,
        first,
        BirthDate(born),
        sex_from_nir(nir),
        nir if source is IdentitySource.CARD else None,
        source,
        rank=1 if source is IdentitySource.CARD else None,
    )
    identity = _register(nir)
    status = identity_status(document, identity.traits.birth_date, AT.date())
    return IdentityCheck(identity, held, differences(held, identity), document, status)


CHECKS = {
    "le_goff": _check("LE GOFF", "Gérard", "152033523804587", "19520314", Document.PASSPORT),
    "durand": _check("DURAND", "Léa", "215067511203450", "20150603", Document.FAMILY_BOOK),
    "casanova": _check(
        "CASANOVA-ORSINI", "Marie-Ange", "291092A00401281", "19910905", Document.ID_CARD
    ),
    # Typed from a document (the card forgotten), found by the traits; no document shown.
    "ben_said": _check(
        "BEN SAÏD",
        "Karim",
        "155009935000780",
        "19550000",
        Document.NONE,
        source=IdentitySource.TYPED,
    ),
    # Born abroad: an INS-NIA.
    "okafor": _check("OKAFOR", "Chidi", "190079933600464", "19900715", Document.RESIDENCE_PERMIT),
}
# The patients the DMPs are created for: INSi's INS and traits, never the card's spelling.
PATIENTS = {key: check.patient for key, check in CHECKS.items()}

DMP_IDS = {key: f"DMP-{n:06d}" for n, key in enumerate(sorted(PATIENTS), start=1)}

WEB = WebAccess(email="marie-ange.casanova@exemple.fr", mobile="+33612345678")


def _request(key: str) -> CreationRequest:
    patient, check = PATIENTS[key], CHECKS[key]
    if key == "durand":
        mother = LegalRepresentative(Relationship.MTH, "DURAND", "Sophie")
        return CreationRequest(
            Action.CREATION, patient, Consent(creation=True), mother, identity=check
        )
    if key == "casanova":
        refused = Consent(creation=True, samu_access=False, break_glass_access=False)
        return CreationRequest(Action.CREATION, patient, refused, web_access=WEB, identity=check)
    if key == "ben_said":
        samu_refused = Consent(creation=True, samu_access=False)
        return CreationRequest(Action.REACTIVATION, patient, samu_refused, identity=check)
    return CreationRequest(Action.CREATION, patient, Consent(creation=True), identity=check)


def legacy_receipt(key: str = "le_goff", **changes) -> CreationReceipt:
    """A receipt as made before identity vigilance: the card's identity, no identity check
    (what an old journal entry or a replayed outbox request holds)."""
    held = CHECKS[key].held
    ins = CHECKS[key].identity.ins
    patient = Patient(ins, held.last_name, held.first_name, held.birth_date, held.sex, held.source)
    receipt = make_receipt(key)
    request = replace(receipt.request, patient=patient, identity=None)
    return replace(receipt, request=request, **changes)


def make_receipt(key: str, **changes) -> CreationReceipt:
    receipt = CreationReceipt(_request(key), PHARMACIST, DMP_IDS[key], AT, demo=True)
    return replace(receipt, **changes) if changes else receipt


SECRETS = SecretsSheet(
    patient_name="CASANOVA-ORSINI Marie-Ange",
    login="mcasanova8213",
    initial_password="Kx7-Rq2!wZ",
    email_masked=mask_email(WEB.email),
    mobile_masked=mask_mobile(WEB.mobile),
    at=AT,
)


def pdf_text(pdf: bytes) -> str:
    """All pages' text, whitespace collapsed (so wrapped cells still read as one phrase)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)
