"""What a check of a proof concludes: one outcome, one sentence, and what was found.

Shared by the signed statement (statement.py), the audit journal (journal.py) and the PDF's
signature: ``proclient verify`` prints the sentence and exits with :data:`EXIT_CODES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["valid", "altered", "unknown_key", "revoked", "unreadable"]

# proclient verify's exit codes (docs/commands.md): an unknown and a revoked key share one.
EXIT_CODES: dict[str, int] = {
    "valid": 0,
    "altered": 20,
    "unknown_key": 21,
    "revoked": 21,
    "unreadable": 22,
}


@dataclass(frozen=True)
class Verdict:
    """``sentence``: French, through core.i18n's ``_`` (English in the catalogue).
    ``details``: what the proof asserts or where it breaks (the statement's fields, the key
    id, the first bad entry…), for a caller to show; never secrets."""

    outcome: Outcome
    sentence: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.outcome == "valid"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]


def worst(verdicts: list[Verdict]) -> Verdict | None:
    """The first verdict that is not valid, else the last one (None for none): what a
    command checking several proofs of one document reports."""
    for verdict in verdicts:
        if not verdict.valid:
            return verdict
    return verdicts[-1] if verdicts else None
