"""One recorded creation: the request as JSON and back, and the consent record signed at
capture time with the professional's credential.

The consent record is the canonical JSON (sorted keys, no spaces, UTF-8) of
``{"request", "id_nat", "captured_at"}``: the service rebuilds the same bytes at replay to
check who captured the consent and when.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from proclient.credentials.base import Credential
from proclient.domain import (
    Action,
    BirthDate,
    Consent,
    CreationRequest,
    IdentitySource,
    Ins,
    LegalRepresentative,
    Patient,
    Relationship,
    Sex,
)
from proclient.outbox.port import OutboxEntry


def request_to_dict(request: CreationRequest) -> dict:
    """The request as the outbox keeps it. Refuses online access (its initial password can
    only be handed over on paper at creation) and an INSi check (offline there is none: the
    replay does the look-up)."""
    if request.web_access is not None:
        raise ValueError("online access cannot be requested offline")
    if request.identity is not None:
        raise ValueError("an offline capture carries no INSi check")
    patient, consent, rep = request.patient, request.consent, request.legal_representative
    return {
        "action": request.action.value,
        "patient": {
            "ins": {"value": patient.ins.value, "oid": patient.ins.oid},
            "last_name": patient.last_name,
            "first_name": patient.first_name,
            "birth_date": patient.birth_date.raw,
            "sex": patient.sex.value if patient.sex else None,
            "source": patient.source.value,
        },
        "consent": {
            "creation": consent.creation,
            "samu_access": consent.samu_access,
            "break_glass_access": consent.break_glass_access,
        },
        "legal_representative": (
            {
                "relationship": rep.relationship.value,
                "last_name": rep.last_name,
                "first_name": rep.first_name,
            }
            if rep
            else None
        ),
    }


def request_from_dict(data: dict) -> CreationRequest:
    """The inverse of :func:`request_to_dict`."""
    p, c, r = data["patient"], data["consent"], data["legal_representative"]
    return CreationRequest(
        action=Action(data["action"]),
        patient=Patient(
            ins=Ins(p["ins"]["value"], p["ins"]["oid"]),
            last_name=p["last_name"],
            first_name=p["first_name"],
            birth_date=BirthDate(p["birth_date"]),
            sex=Sex(p["sex"]) if p["sex"] is not None else None,
            source=IdentitySource(p["source"]),
        ),
        consent=Consent(
            creation=c["creation"],
            samu_access=c["samu_access"],
            break_glass_access=c["break_glass_access"],
        ),
        legal_representative=(
            LegalRepresentative(Relationship(r["relationship"]), r["last_name"], r["first_name"])
            if r
            else None
        ),
    )


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def consent_record(request: CreationRequest, id_nat: str, captured_at: datetime) -> bytes:
    """The bytes the professional's credential signs at capture."""
    return canonical_json(
        {
            "request": request_to_dict(request),
            "id_nat": id_nat,
            "captured_at": captured_at.astimezone(UTC).isoformat(),
        }
    )


def capture(
    request: CreationRequest,
    credential: Credential,
    *,
    now: datetime | None = None,
    idempotency_key: str | None = None,
) -> OutboxEntry:
    """Record ``request`` now: the consent record signed with ``credential``'s key (on the
    CPS card, whose PIN the card checks offline) and a fresh idempotency key."""
    if not request.consent.creation:
        raise ValueError("a creation is recorded only with the patient's consent")
    captured_at = (now or datetime.now(UTC)).astimezone(UTC)
    id_nat = credential.professional.id_nat
    return OutboxEntry(
        request=request,
        id_nat=id_nat,
        captured_at=captured_at,
        idempotency_key=idempotency_key or str(uuid.uuid4()),
        signature=credential.sign(consent_record(request, id_nat, captured_at)),
        certificate_pem=credential.certificate_pem,
    )


def signature_is_valid(entry: OutboxEntry) -> bool:
    """Whether the entry's signature is its certificate's over its consent record (RSA
    PKCS#1 v1.5, SHA-256, as :meth:`Credential.sign`). The service does its own check, with
    the certificate chain; this one lets the workstation refuse a forged record early."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = x509.load_pem_x509_certificate(entry.certificate_pem).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(
            entry.signature,
            consent_record(entry.request, entry.id_nat, entry.captured_at),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return False
    return True
