"""One recorded creation: the capture signed with the professional's credential at capture
time (the record's format is the core's, :mod:`proclient.core.capture`, so that the service
checks the same bytes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from proclient.core.capture import Capture
from proclient.core.domain import Consent, LegalRepresentative
from proclient.core.identity import Document, HeldIdentity
from proclient.credentials.base import Credential
from proclient.outbox.port import OutboxEntry


def capture(
    held: HeldIdentity,
    document: Document,
    consent: Consent,
    legal_representative: LegalRepresentative | None,
    credential: Credential,
    *,
    now: datetime | None = None,
    idempotency_key: str | None = None,
) -> OutboxEntry:
    """Record a creation now: the consent record signed with ``credential``'s key (on the
    CPS card, whose PIN the card checks offline) and a fresh idempotency key. Online access
    is never part of it (the initial password is handed over on paper at the creation)."""
    if not consent.creation:
        raise ValueError("a creation is recorded only with the patient's consent")
    record = Capture(
        held=held,
        document=document,
        consent=consent,
        legal_representative=legal_representative,
        id_nat=credential.professional.id_nat,
        # Whole seconds: the record's ISO text must parse back to the same instant.
        captured_at=(now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0),
    )
    return OutboxEntry(
        capture=record,
        idempotency_key=idempotency_key or str(uuid.uuid4()),
        signature=credential.sign(record.record()),
        certificate_pem=credential.certificate_pem,
    )
