"""Which outbox `proclient outbox` reads, how it names it, and which entry an ID means.

Two outboxes exist side by side in one home, as two ways to run the TUI do: the
workstation's (``proclient``) and the demonstration's (``proclient demo``). A command reads
the one ``--demo`` chooses and never the other by itself; this module words where it looked
and, when that one has nothing for the user, whether the other one has (see the docstring of
:mod:`proclient.commands.outbox`).
"""

from __future__ import annotations

from proclient.core.i18n import _

ID_ECHO = 40
"""At most this many characters of what was typed are repeated in a message."""


class OutboxFailure(Exception):
    """One French line for stderr and the exit code that goes with it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code)
        self.code, self.message = code, message


def outbox_failure(error) -> OutboxFailure:
    """The exit code of an outbox error (unknown entry, tampered, key missing)."""
    from proclient.commands import (
        EXIT_ERROR,
        EXIT_OUTBOX_KEY_MISSING,
        EXIT_OUTBOX_TAMPERED,
        EXIT_OUTBOX_UNKNOWN,
    )

    code = {
        "OUTBOX_UNKNOWN": EXIT_OUTBOX_UNKNOWN,
        "OUTBOX_TAMPERED": EXIT_OUTBOX_TAMPERED,
        "OUTBOX_KEY_MISSING": EXIT_OUTBOX_KEY_MISSING,
    }.get(error.code, EXIT_ERROR)
    return OutboxFailure(code, error.message)


class OutboxHome:
    """The workstation's outbox (``demo`` False) or the demonstration's, as the TUI of the
    same kind uses it (:func:`proclient.wiring.workstation_outbox`)."""

    def __init__(self, settings, demo: bool) -> None:
        from proclient.wiring import workstation_outbox

        self.settings, self.demo = settings, demo
        self.outbox = workstation_outbox(settings, demo=demo)

    @property
    def other(self) -> OutboxHome:
        return OutboxHome(self.settings, not self.demo)

    def summaries(self) -> list:
        """Every entry (OutboxFailure when the outbox cannot be read)."""
        from proclient.outbox.port import OutboxError

        try:
            return self.outbox.list()
        except OutboxError as error:
            raise outbox_failure(error) from None

    def quietly(self) -> list:
        """The entries, or none when they cannot be read: for a hint, never a failure."""
        from proclient.outbox.port import OutboxError

        try:
            return self.outbox.list()
        except (OutboxError, OSError):
            return []

    # --- words -------------------------------------------------------------------------------

    def heading(self) -> str:
        """The line above the text list: which outbox this is."""
        if self.demo:
            return _(
                "Créations en attente dans la démonstration (dossier {dir}) :",
                dir=self.outbox.directory,
            )
        return _("Créations en attente sur ce poste (dossier {dir}) :", dir=self.outbox.directory)

    def nothing(self, action: str) -> str:
        """This outbox is empty: say so, and where the other one's entries are if it has
        any (``action``: the sub-command that would show or send them)."""
        waiting = len(self.other.quietly())
        if self.demo:
            if waiting:
                return _(
                    "Aucune création en attente dans la démonstration ; ce poste en garde "
                    "{n} : « proclient outbox {action} », sans --demo.",
                    n=waiting,
                    action=action,
                )
            return _("Aucune création en attente dans la démonstration.")
        if waiting:
            return _(
                "Aucune création en attente sur ce poste ; la démonstration en garde {n} : "
                "« proclient outbox {action} --demo ».",
                n=waiting,
                action=action,
            )
        return _("Aucune création en attente sur ce poste.")

    def _unknown(self, typed: str) -> str:
        typed = typed[:ID_ECHO]
        if _matching(self.other.quietly(), typed):
            if self.demo:
                return _(
                    "La création « {id} » n'est pas dans la démonstration mais sur ce poste : "
                    "retirez --demo.",
                    id=typed,
                )
            return _(
                "La création « {id} » n'est pas sur ce poste mais dans la démonstration : "
                "ajoutez --demo.",
                id=typed,
            )
        if self.demo:
            return _(
                "Aucune création « {id} » en attente dans la démonstration (dossier {dir}) : "
                "déjà envoyée ou abandonnée, ou identifiant mal recopié (voir « proclient "
                "outbox list --demo »).",
                id=typed,
                dir=self.outbox.directory,
            )
        return _(
            "Aucune création « {id} » en attente sur ce poste (dossier {dir}) : déjà envoyée "
            "ou abandonnée, ou identifiant mal recopié (voir « proclient outbox list »).",
            id=typed,
            dir=self.outbox.directory,
        )

    # --- one entry ---------------------------------------------------------------------------

    def resolve(self, typed: str, summaries: list):
        """The summary ``typed`` names: its whole id or a unique prefix of it.
        OutboxFailure otherwise: several entries (exit 2, their ids listed) or none (exit 6,
        the outbox read named)."""
        from proclient.commands import EXIT_OUTBOX_UNKNOWN, EXIT_USAGE

        found = _matching(summaries, typed)
        if len(found) == 1:
            return found[0]
        if found:
            raise OutboxFailure(
                EXIT_USAGE,
                _(
                    "« {id} » désigne {n} créations ({ids}) : donnez plus de caractères de "
                    "l'identifiant.",
                    id=typed[:ID_ECHO],
                    n=len(found),
                    ids=", ".join(s.id for s in found),
                ),
            )
        raise OutboxFailure(EXIT_OUTBOX_UNKNOWN, self._unknown(typed))


def _matching(summaries: list, typed: str) -> list:
    """The entries whose id is ``typed`` or begins with it (ids are lower-case hex)."""
    wanted = typed.strip().lower()
    if not wanted:
        return []
    exact = [s for s in summaries if s.id == wanted]
    return exact or [s for s in summaries if s.id.startswith(wanted)]
