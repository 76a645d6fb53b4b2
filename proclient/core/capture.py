"""A creation captured while the service could not be reached, and its signed consent record.

Shared by the workstation (which signs the record at capture with the professional's CPS
key, keeps it in the outbox, and sends it with the creation when the service answers again)
and the service (which checks who captured the consent, when, and that it is this request's).

What is captured is what the professional had in front of them: the identity *held* (the
card's beneficiary, or the traits typed), the document seen, the consent and the two
emergency accesses, the minor's legal representative. Not the INS: offline there is no INSi;
the replay asks INSi first and creates with its answer. Never online access: the patient's
initial password can only be handed over on paper at the creation itself.

The record is canonical JSON (sorted keys, no spaces, UTF-8) so that its bytes are what was
signed: the workstation keeps and sends those bytes, the service parses them back with
:func:`parse_record` and checks the signature over the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from proclient.core.domain import (
    BirthDate,
    Consent,
    IdentitySource,
    LegalRepresentative,
    Relationship,
    Sex,
)
from proclient.core.identity import Document, HeldIdentity

RECORD_VERSION = 1
DEFAULT_MAX_AGE_DAYS = 7
"""How old a captured consent the service accepts by default (``offline_consent_days``)."""
CLOCK_SKEW = timedelta(minutes=5)
"""A capture time this far in the service's future is still accepted (clocks drift)."""


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Capture:
    """One creation recorded offline: the identity held, the document seen, the consent, the
    representative of a minor, who captured it and when (UTC)."""

    held: HeldIdentity
    document: Document
    consent: Consent
    legal_representative: LegalRepresentative | None
    id_nat: str
    captured_at: datetime

    def record(self) -> bytes:
        """The bytes the professional's credential signs (and the service checks)."""
        held, consent, rep = self.held, self.consent, self.legal_representative
        return canonical_json(
            {
                "v": RECORD_VERSION,
                "id_nat": self.id_nat,
                "captured_at": self.captured_at.astimezone(UTC).isoformat(timespec="seconds"),
                "held": {
                    "last_name": held.last_name,
                    "first_name": held.first_name,
                    "birth_date": held.birth_date.raw,
                    "sex": held.sex.value if held.sex else None,
                    "nir": held.nir,
                    "source": held.source.value,
                    "rank": held.rank,
                    "birthplace": held.birthplace,
                },
                "document": self.document.value,
                "consent": consent.fields(),
                "legal_representative": rep.fields() if rep else None,
            }
        )


@dataclass(frozen=True)
class CaptureProof:
    """What goes with the creation when it is sent: the record's bytes, their signature by
    the professional's credential, and the signer's certificate (PEM)."""

    record: bytes
    signature: bytes
    certificate_pem: bytes


class RecordInvalid(ValueError):
    """The bytes are not a consent record this version understands."""


def parse_record(data: bytes) -> Capture:
    """The capture behind a record's bytes; RecordInvalid when they are not one."""
    try:
        value = json.loads(data.decode("utf-8"))
        if not isinstance(value, dict) or value.get("v") != RECORD_VERSION:
            raise RecordInvalid("unknown record version")
        h, c, r = value["held"], value["consent"], value["legal_representative"]
        captured_at = datetime.fromisoformat(value["captured_at"])
        if captured_at.tzinfo is None:
            raise RecordInvalid("capture time without a time zone")
        for flag in ("creation", "samu_access", "break_glass_access"):
            if not isinstance(c[flag], bool):
                raise RecordInvalid("consent flags are booleans")
        capture = Capture(
            held=HeldIdentity(
                last_name=str(h["last_name"]),
                first_name=str(h["first_name"]),
                birth_date=BirthDate(str(h["birth_date"])),
                sex=Sex(h["sex"]) if h["sex"] is not None else None,
                nir=str(h["nir"]) if h["nir"] is not None else None,
                source=IdentitySource(h["source"]),
                rank=int(h["rank"]) if h["rank"] is not None else None,
                birthplace=str(h["birthplace"]) if h["birthplace"] is not None else None,
            ),
            document=Document(value["document"]),
            consent=Consent(
                creation=c["creation"],
                samu_access=c["samu_access"],
                break_glass_access=c["break_glass_access"],
            ),
            legal_representative=(
                LegalRepresentative(
                    Relationship(r["relationship"]), str(r["last_name"]), str(r["first_name"])
                )
                if r is not None
                else None
            ),
            id_nat=str(value["id_nat"]),
            captured_at=captured_at.astimezone(UTC),
        )
    except RecordInvalid:
        raise
    except (
        KeyError,
        TypeError,
        ValueError,  # UnicodeDecodeError, json.JSONDecodeError, a bad enum value or date
        OverflowError,  # a time at the edge of datetime's range, moved to UTC
        RecursionError,  # JSON nested deeper than the parser goes
    ) as error:
        raise RecordInvalid(type(error).__name__) from None
    if capture.record() != data:
        raise RecordInvalid("not in canonical form")
    return capture


def capture_age_problem(captured_at: datetime, now: datetime, max_age: timedelta) -> str | None:
    """The problem code for a capture time the service must refuse, or None:
    CAPTURE_INVALID in the future (beyond the clock skew), CONSENT_STALE older than
    ``max_age``. The workstation uses the same rule to say why an entry is held."""
    if captured_at > now + CLOCK_SKEW:
        return "CAPTURE_INVALID"
    if now - captured_at > max_age:
        return "CONSENT_STALE"
    return None
