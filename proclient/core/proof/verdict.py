"""What a verification concludes: one outcome, one sentence for the user, details for tools.

``proclient verify`` maps the outcome to its exit code (docs/commands.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["valid", "altered", "unknown_key", "revoked", "unreadable"]

EXIT_CODES: dict[str, int] = {
    "valid": 0,
    "altered": 20,
    "unknown_key": 21,
    "revoked": 21,
    "unreadable": 22,
}


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    sentence: str  # French through core.i18n._ (English in the catalogue)
    details: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]
