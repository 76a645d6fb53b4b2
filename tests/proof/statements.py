"""The proof tests' example statement: one creation's accusé, and ``statement(**changes)`` for
a variant of it (another date, kind or consent) without restating every field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from proclient.core.proof.statement import Statement, initials, mask_ins

AT = datetime(2026, 12, 7, 9, 30, 12, tzinfo=UTC)
NIR = "255081416802538"

STATEMENT = Statement(
    kind="creation",
    reference="DMP-4F7Q2K9X",
    at=AT,
    ins_masked=mask_ins(NIR),
    ins_oid="1.2.250.1.213.1.4.10",
    professional_id="899700024450",
    profession_code="21",
    initials=initials("Gérard", "LE GOFF"),
    birth_year=1955,
    consent_by="patient",
    samu_access=True,
    break_glass_access=False,
    online_access=True,
)


def statement(**changes: object) -> Statement:
    """:data:`STATEMENT` with ``changes`` (``at=…``, ``kind=…``; None leaves a field out)."""
    return replace(STATEMENT, **changes)
