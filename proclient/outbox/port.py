"""The outbox port: what the App and the replay will see, whatever keeps the entries."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from proclient.core.capture import Capture, CaptureProof
from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.core.identity import HeldIdentity
from proclient.core.problems import problem_message


class EntryState(enum.StrEnum):
    """Where a recorded creation stands. Nothing here is final: a confirmed creation leaves
    the outbox (``done``) instead of taking a state."""

    PENDING = "pending"
    """Waiting for the service."""
    SENDING = "sending"
    """Sent, answer not received yet: the replay resends it with the same key."""
    HELD = "held"
    """The service or INSi said no for now (a DMP created meanwhile, a stale consent…): kept
    with its reason for the professional to decide."""
    TAMPERED = "tampered"
    """Only in ``list``: the file was changed on disk and is refused."""

    @property
    def label(self) -> str:
        """The state in words (the outbox screen, ``proclient outbox``)."""
        return {
            "pending": _("en attente"),
            "sending": _("envoi en cours"),
            "held": _("retenue"),
            "tampered": _("altérée"),
        }[self.value]


@dataclass(frozen=True)
class OutboxEntry:
    """A creation captured offline (:class:`proclient.core.capture.Capture`: the identity held,
    the document seen, the consent, a minor's representative, who and when), the consent
    record's signature by the professional's credential, the signer's certificate (so the
    service can check who captured the consent) and the write's idempotency key."""

    capture: Capture
    idempotency_key: str
    signature: bytes
    certificate_pem: bytes
    accepted: bool = False
    """The professional accepted INSi's identity despite its differences with the one held
    (a local decision, not part of the signed record)."""

    @property
    def record(self) -> bytes:
        """The signed bytes."""
        return self.capture.record()

    @property
    def proof(self) -> CaptureProof:
        """What the service checks (sent with the creation)."""
        return CaptureProof(self.record, self.signature, self.certificate_pem)

    @property
    def id_nat(self) -> str:
        return self.capture.id_nat

    @property
    def captured_at(self) -> datetime:
        return self.capture.captured_at


def _initial(name: str) -> str:
    letter = next((c for c in name if c.isalnum()), "")
    return f"{letter.upper()}." if letter else ""


def patient_mask(held: HeldIdentity) -> str:
    """The patient as the outbox list shows them: the initials of the name and the given
    name, and the birth year as read (« L. G. 1952 » for LE GOFF Gérard, born 14/03/1952).

    Enough for the professional who recorded the creation to tell their patients apart,
    not enough for someone reading over a shoulder (the queue at the counter, a shared
    terminal's scrollback) to name anyone: never the name, the given name, the full birth
    date nor the NIR. A lunar year is kept as read; an unreadable one is « ? »."""
    year = held.birth_date.raw[:4]
    parts = [
        _initial(held.last_name),
        _initial(held.first_name),
        year if len(year) == 4 and year.isdigit() else "?",
    ]
    return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class EntrySummary:
    """One line of the outbox list: nothing that names the patient (their initials and
    birth year at most, :func:`patient_mask`)."""

    id: str
    captured_at: datetime | None
    id_nat: str
    state: EntryState
    reason: str
    """A stable code (a problem code, ``INSI_01``…) or empty."""
    patient: str = ""
    """:func:`patient_mask` of the signed record's identity ("" for a tampered entry)."""


class OutboxError(DomainError):
    """An outbox failure the professional must see (never silently skipped)."""


class EntryTampered(OutboxError):
    """The entry's file was changed on disk: it is refused, never sent."""

    def __init__(self) -> None:
        super().__init__("OUTBOX_TAMPERED", problem_message("OUTBOX_TAMPERED") or "")


class OutboxKeyMissing(OutboxError):
    """The key the entry was encrypted with is no longer there (keyring reset, key file
    deleted): the entry cannot be read, but it is not reported as tampered."""

    def __init__(self) -> None:
        super().__init__("OUTBOX_KEY_MISSING", problem_message("OUTBOX_KEY_MISSING") or "")


class UnknownEntry(OutboxError):
    """No entry under that id (already done, or never there)."""

    def __init__(self) -> None:
        super().__init__("OUTBOX_UNKNOWN", problem_message("OUTBOX_UNKNOWN") or "")


class Outbox(Protocol):
    """Recorded creations until they are confirmed. Writes are durable once they return."""

    def put(self, entry: OutboxEntry) -> str:
        """Keep ``entry``; return its id (random: it carries no patient data)."""
        ...

    def list(self) -> list[EntrySummary]:
        """Every entry, oldest capture first; a tampered one is listed as TAMPERED."""
        ...

    def get(self, entry_id: str) -> OutboxEntry:
        """The entry; EntryTampered, OutboxKeyMissing or UnknownEntry otherwise."""
        ...

    def mark(self, entry_id: str, state: EntryState, reason: str = "") -> None:
        """Record where the entry stands, and why."""
        ...

    def accept(self, entry_id: str) -> None:
        """The professional accepts INSi's identity for this entry: back to PENDING."""
        ...

    def done(self, entry_id: str) -> None:
        """The creation is confirmed: the entry leaves the disk."""
        ...
