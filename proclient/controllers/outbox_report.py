"""What one send run of the outbox did, and how it is said to the professional."""

from __future__ import annotations

from dataclasses import dataclass, field

from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.core.records import CreationResult


@dataclass
class SendReport:
    """What one send run did (entry ids only: nothing that names a patient)."""

    created: list[tuple[str, CreationResult]] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)
    """(entry id, reason code) kept for the professional."""
    tampered: list[str] = field(default_factory=list)
    others: int = 0
    """Entries captured by another professional: only they can send them."""
    stopped: DomainError | None = None
    """Why the run stopped before the end (service unreachable…), or None."""

    def said(self, quiet: bool, tampered_said: set[str]) -> tuple[str, str] | None:
        """(one toast's text, its severity), or None when there is nothing to say.
        ``quiet``: a run in the background, silent when nothing was sent, saying each
        tampered entry once (``tampered_said`` keeps those already said, updated here)."""
        parts = []
        if self.created:
            parts.append(
                _(
                    "{n} DMP créé(s) depuis les créations enregistrées, accusé(s) édité(s).",
                    n=len(self.created),
                )
            )
        if self.held:
            parts.append(
                _("{n} création(s) retenue(s) : F7 sur l'accueil dit pourquoi.", n=len(self.held))
            )
        tampered = [i for i in self.tampered if not quiet or i not in tampered_said]
        tampered_said.update(self.tampered)
        if tampered:
            parts.append(
                _(
                    "{n} création(s) enregistrée(s) modifiée(s) sur le disque : refusée(s), non "
                    "envoyée(s).",
                    n=len(tampered),
                )
            )
        if self.others and not quiet:
            parts.append(
                _(
                    "{n} création(s) d'un autre professionnel laissée(s) : seul ce professionnel "
                    "peut les envoyer.",
                    n=self.others,
                )
            )
        if self.stopped is not None:
            parts.append(self.stopped.message)
        if parts:
            severity = "warning" if (self.held or tampered or self.stopped) else "information"
            return " ".join(parts), severity
        if not quiet:
            return _("Aucune création à envoyer."), "information"
        return None
