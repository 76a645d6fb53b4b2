"""Demo patients and receipts shared by the receipt tests (imported by name: the test
directory is on sys.path under pytest's default import mode)."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime

from pypdf import PdfReader

from proclient.domain import (
    OID_INS_NIR_TEST,
    Action,
    BirthDate,
    Consent,
    CreationReceipt,
    CreationRequest,
    IdentitySource,
    Ins,
    LegalRepresentative,
    Patient,
    Professional,
    Relationship,
    SecretsSheet,
    WebAccess,
    mask_email,
    mask_mobile,
    sex_from_nir,
)

AT = datetime(2021, 3, 14, 9, 30, 5, tzinfo=UTC)  # 10:30:05 in Paris (winter time)

PHARMACIST = Professional("899700024450", "MARTIN", "Zoé", "21", "Pharmacie du Cœur de Straße")


def _patient(last, first, nir, born, source=IdentitySource.CARD) -> Patient:
    ins = Ins(nir, OID_INS_NIR_TEST)
    return Patient(ins, last, first, BirthDate(born), sex_from_nir(nir), source)


PATIENTS = {
    "le_goff": _patient("LE GOFF", "Gérard", "152033523804587", "19520314"),
    "durand": _patient("DURAND", "Léa", "215067511203450", "20150603"),
    "casanova": _patient("CASANOVA-ORSINI", "Marie-Ange", "291092A00401281", "19910905"),
    "ben_said": _patient(
        "BEN SAÏD", "Karim", "155009935000780", "19550000", source=IdentitySource.TYPED
    ),
}

DMP_IDS = {key: f"DMP-{n:06d}" for n, key in enumerate(sorted(PATIENTS), start=1)}

WEB = WebAccess(email="marie-ange.casanova@exemple.fr", mobile="+33612345678")


def _request(key: str) -> CreationRequest:
    patient = PATIENTS[key]
    if key == "durand":
        mother = LegalRepresentative(Relationship.MTH, "DURAND", "Sophie")
        return CreationRequest(Action.CREATION, patient, Consent(creation=True), mother)
    if key == "casanova":
        refused = Consent(creation=True, samu_access=False, break_glass_access=False)
        return CreationRequest(Action.CREATION, patient, refused, web_access=WEB)
    if key == "ben_said":
        samu_refused = Consent(creation=True, samu_access=False)
        return CreationRequest(Action.REACTIVATION, patient, samu_refused)
    return CreationRequest(Action.CREATION, patient, Consent(creation=True))


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
