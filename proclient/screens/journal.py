"""Journal: the accusés saved on this workstation, to reprint one for a patient who lost it.

The list shows the date, the operation, the DMP id and the format, never a name (the App reads
the receipts directory in a job). A reprint sends the saved PDF again: an accusé carries no
login and no password, so nothing secret can come out of the journal.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from proclient.core.i18n import N_, _
from proclient.messages import JobFailed, JournalLoaded, JournalLoadRequested, ReceiptPrintRequested
from proclient.screens.base import BaseScreen


class JournalScreen(BaseScreen):
    title_text = N_("Journal des accusés")
    HELP_TEXT = N_(
        "Les accusés enregistrés sur ce poste, du plus récent au plus ancien, sans nom de "
        "patient. Entrée ou F5 réimprime l'accusé choisi ; il ne porte ni identifiant ni mot "
        "de passe."
    )

    BINDINGS = [
        Binding("f5", "reprint", _("Réimprimer"), id="reprint"),
        Binding("escape", "close", _("Retour"), id="close_journal"),
    ]

    DEFAULT_CSS = """
    JournalScreen OptionList { height: 1fr; min-height: 5; }
    """

    def __init__(self, context) -> None:
        super().__init__(context)
        self.entries: list = []

    def compose_body(self) -> ComposeResult:
        yield Static(_("Lecture du journal…"), id="journal_state")
        yield OptionList(id="journal")
        yield Static(
            _(
                "Entrée ou F5 : réimprimer l'accusé choisi (sans identifiant ni mot de passe). "
                "Échap : retour."
            ),
            classes="hint",
        )

    def on_mount(self) -> None:
        self.post_message(JournalLoadRequested())

    def on_journal_loaded(self, message: JournalLoaded) -> None:
        self.show_entries(message.entries, message.error)

    def on_job_failed(self, failure: JobFailed) -> None:
        if failure.job == "journal":
            self.show_entries([], failure.message)
        else:
            super().on_job_failed(failure)

    def show_entries(self, entries: list, error: str = "") -> None:
        self.entries = entries
        options = self.query_one("#journal", OptionList)
        options.clear_options()
        # One line per accusé from 78 columns; below, two lines rather than a row cut anywhere.
        gap = " " if self.app.size.width >= 78 else "\n      "
        options.add_options(
            Option(
                Content(
                    _(
                        "{n:>3}. {date} {action:<12}{gap}{dmp:<20} {page:<5} {status}",
                        n=entry.number,
                        date=entry.at.strftime("%d/%m/%Y %H:%M"),
                        action=entry.action_label,
                        gap=gap,
                        dmp=entry.dmp_id or _("(identifiant masqué)"),
                        page=entry.page_label,
                        status=entry.status_label,
                    )
                ),
                id=str(entry.number),
            )
            for entry in entries
        )
        if error:
            state = error
        elif entries:
            state = _(
                "{count} accusé(s) enregistré(s), du plus récent au plus ancien.",
                count=len(entries),
            )
        else:
            state = _("Aucun accusé enregistré sur ce poste.")
        self.query_one("#journal_state", Static).update(Content(state))
        if entries:
            options.highlighted = 0
            options.focus()
        self.refresh_bindings()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._reprint(event.option_index)

    def action_reprint(self) -> None:
        highlighted = self.query_one("#journal", OptionList).highlighted
        if highlighted is not None:
            self._reprint(highlighted)

    def _reprint(self, index: int) -> None:
        if 0 <= index < len(self.entries):
            self.post_message(ReceiptPrintRequested(self.entries[index].path))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reprint":
            return bool(self.entries)
        return True

    def action_close(self) -> None:
        self.dismiss()
