"""The creations recorded offline, waiting on this workstation.

The list names nobody: it may be read over a shoulder. Each row gives the capture date and
time (to the second: one professional records one patient at a time), the patient's
initials and birth year (« L. G. 1952 », :func:`proclient.outbox.port.patient_mask`: enough
to tell two patients recorded in the same minute apart, never the name nor the NIR), the
professional's idNat, the state and the reason, in columns as wide as their widest cell (the
headers' translations included); the last column wraps within itself on a narrow terminal.
Enter shows one entry's detail (the identity held, the choices) to the professional at the
keyboard. F8 sends what waits (a session open and the service reachable: otherwise the
screen says what is missing); on an entry held because INSi's identity differs from the card,
F6 accepts INSi's identity and sends it; Suppr gives a creation up, after a confirmation.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from proclient.core.clock import paris_time
from proclient.core.i18n import N_, _
from proclient.messages import (
    OutboxAcceptRequested,
    OutboxDetailLoaded,
    OutboxDetailRequested,
    OutboxDropRequested,
    OutboxLoaded,
    OutboxLoadRequested,
    OutboxSendRequested,
    OutboxSent,
    PinPurpose,
)
from proclient.screens.base import BaseScreen
from proclient.widgets.modal import Modal
from proclient.widgets.pin import PinEntry


def _reason(reason: str) -> str:
    """A held entry's reason in one sentence ("" for none)."""
    from proclient.core.problems import problem_message

    return (problem_message(reason) or reason) if reason else ""


def reason_label(reason: str) -> str:
    """A held entry's reason in a few words, for the list (the full sentence is below it)."""
    labels = {
        "DMPFound": _("DMP déjà actif"),
        "DMPClosed": _("DMP fermé"),
        "CONSENT_STALE": _("consentement trop ancien"),
        "CAPTURE_INVALID": _("consentement non vérifiable"),
        "CAPTURE_MISMATCH": _("consentement différent"),
        "INSI_DIFFERENCES": _("identité INSi à vérifier"),
        "INSI_NONE": _("inconnu de l'INSi"),
        "INSI_NONE_CARD": _("inconnu de l'INSi"),
        "INSI_SEVERAL": _("plusieurs identités INSi"),
        "OUTBOX_TAMPERED": _("modifiée sur le disque"),
        "PATIENT_MINOR": _("mineur sans représentant"),
        "TRAITS_INCOMPLETE": _("traits incomplets"),
        "DOCUMENT_MINORS_ONLY": _("pièce réservée aux mineurs"),
    }
    return labels.get(reason, reason)


COLUMNS = (N_("Enregistrée le"), N_("Patient"), N_("Par"), N_("État — raison"))
"""The list's headers: when, the patient's initials and birth year, the professional's
idNat, where the entry stands."""


def summary_cells(summary) -> tuple[str, str, str, str]:
    """One entry of the list, a cell per column of :data:`COLUMNS` (no name, no NIR)."""
    when = (
        paris_time(summary.captured_at).strftime("%d/%m %H:%M:%S")
        if summary.captured_at is not None
        else "--/-- --:--:--"
    )
    reason = f" — {reason_label(summary.reason)}" if summary.reason else ""
    return (
        when,
        summary.patient or "—",
        summary.id_nat or "?",
        f"{summary.state.label}{reason}",
    )


def column_widths(rows: list[tuple[str, ...]], headers: tuple[str, ...]) -> list[int]:
    """The widths of every column but the last (which takes what is left, and wraps)."""
    return [max(cell_len(row[i]) for row in (headers, *rows)) for i in range(len(headers) - 1)]


def columns(cells: tuple[str, ...], widths: list[int]) -> Table:
    """One row (or the headers) laid out in the list's columns (as plain text: a reason
    code is never read as markup)."""
    grid = Table.grid(padding=(0, 2))
    for width in widths:
        grid.add_column(width=width, no_wrap=True)
    grid.add_column()
    grid.add_row(*(Text(cell) for cell in cells))
    return grid


class OutboxScreen(BaseScreen):
    title_text = N_("Créations enregistrées en attente")
    HELP_TEXT = N_(
        "Les créations enregistrées hors connexion, chiffrées sur ce poste, sans nom dans la "
        "liste. Elles partent d'elles-mêmes quand le service DMP répond et qu'une session est "
        "ouverte ; F8 les envoie tout de suite. Entrée affiche le détail d'une création. Une "
        "création retenue garde sa raison : F6 accepte l'identité de l'INSi quand elle diffère "
        "de la carte, F5 la renvoie telle quelle, Suppr l'abandonne (après confirmation). "
        "Échap revient à l'accueil."
    )

    BINDINGS = [
        Binding("escape", "close", _("Retour"), id="back"),
        Binding("f8", "send", _("Envoyer"), id="outbox_send", priority=True),
        Binding("f5", "retry", _("Renvoyer"), id="outbox_retry"),
        Binding("f6", "accept", _("Accepter l'INSi"), id="outbox_accept"),
        Binding("delete", "drop", _("Abandonner"), id="outbox_drop"),
    ]

    DEFAULT_CSS = """
    OutboxScreen #entries { height: auto; max-height: 8; border: none; padding: 0; }
    OutboxScreen #entries:focus { border: none; }
    OutboxScreen #detail { margin-top: 1; height: auto; }
    """

    def __init__(self, context) -> None:
        super().__init__(context)
        self.summaries: list = []
        self.can_send = False

    def compose_body(self) -> ComposeResult:
        yield Static(self._headers(), id="columns", classes="section")
        yield OptionList(id="entries")
        yield Static("", id="state")
        with Vertical(id="login"):
            yield Static(_("Code porteur de votre carte CPS, puis Entrée :"))
            yield PinEntry(PinPurpose.OUTBOX, id="pin-entry")
        yield Static("", id="detail")

    def on_mount(self) -> None:
        self.query_one("#login").display = False
        self.query_one("#entries", OptionList).focus()
        self.post_message(OutboxLoadRequested())

    def on_pin_entered(self, event) -> None:
        # On its way up to the App: say what is happening meanwhile.
        self.clear_error()
        self.start_wait(_("Connexion au service DMP…"))

    def on_pin_status_read(self, message) -> None:
        self.query_one(PinEntry).show_status(message.status)

    def on_job_failed(self, failure) -> None:
        self.stop_wait()
        if self.query_one("#login").display and self.query_one(PinEntry).refused(failure):
            return
        self.show_error(failure.message)

    def _headers(self, widths: list[int] | None = None) -> Table:
        headers = tuple(_(header) for header in COLUMNS)
        return columns(headers, widths or column_widths([], headers))

    @property
    def selected(self):
        entries = self.query_one("#entries", OptionList)
        index = entries.highlighted
        if index is None or not 0 <= index < len(self.summaries):
            return None
        return self.summaries[index]

    def on_outbox_loaded(self, message: OutboxLoaded) -> None:
        self.summaries, self.can_send = list(message.summaries), message.can_send
        entries = self.query_one("#entries", OptionList)
        highlighted = entries.highlighted
        entries.clear_options()
        rows = [summary_cells(s) for s in self.summaries]
        widths = column_widths(rows, tuple(_(header) for header in COLUMNS))
        self.query_one("#columns", Static).update(self._headers(widths))
        entries.add_options(
            Option(columns(row, widths), id=s.id)
            for row, s in zip(rows, self.summaries, strict=True)
        )
        if self.summaries:
            entries.highlighted = min(highlighted or 0, len(self.summaries) - 1)
        if not self.summaries:
            text = _("Aucune création en attente.")
            self.query_one("#detail", Static).update("")
        elif message.can_send:
            text = _("{n} création(s) en attente. F8 pour les envoyer.", n=len(self.summaries))
        else:
            text = _(
                "{n} création(s) en attente. {why}", n=len(self.summaries), why=message.why_not
            )
        self.query_one("#state", Static).update(Content(text))
        login = self.query_one("#login")
        was_shown = login.display
        login.display = message.needs_pin and bool(self.summaries)
        if login.display and not was_shown:
            self.query_one(PinEntry).field.focus()
        elif not login.display and was_shown:
            self.query_one(PinEntry).succeeded()
            self.query_one("#entries", OptionList).focus()
        self._show_reason()
        self.refresh_bindings()

    def _show_reason(self) -> None:
        summary = self.selected
        text = _reason(summary.reason) if summary is not None else ""
        self.query_one("#detail", Static).update(Content(text))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_reason()
        self.refresh_bindings()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(OutboxDetailRequested(event.option.id))

    def on_outbox_detail_loaded(self, message: OutboxDetailLoaded) -> None:
        summary = self.selected
        if summary is not None and summary.id == message.entry_id:
            self.query_one("#detail", Static).update(Content("\n".join(message.lines)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        summary = self.selected
        if action == "send":
            return bool(self.summaries)
        if action == "retry":
            return summary is not None and summary.state.value == "held"
        if action == "accept":
            return summary is not None and summary.reason == "INSI_DIFFERENCES"
        if action == "drop":
            return summary is not None
        return True

    def on_outbox_sent(self, message: OutboxSent) -> None:
        self.stop_wait()

    def action_close(self) -> None:
        if not self.cancel_wait():
            self.dismiss()

    def action_send(self) -> None:
        self.clear_error()
        self._send(None)

    def action_retry(self) -> None:
        summary = self.selected
        if summary is not None:
            self._send(summary.id)

    def _send(self, entry_id: str | None) -> None:
        if self.can_send:
            self.start_wait(_("Envoi au service DMP…"))
        self.post_message(OutboxSendRequested(entry_id))

    def action_accept(self) -> None:
        summary = self.selected
        if summary is not None and summary.reason == "INSI_DIFFERENCES":
            self.post_message(OutboxAcceptRequested(summary.id))

    def action_drop(self) -> None:
        summary = self.selected
        if summary is None:
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.post_message(OutboxDropRequested(summary.id))

        self.app.push_screen(DropModal(), answered)


class OutboxQuestion(Modal):
    """A yes/no question about the outbox, its keys in its sentence: True for yes."""

    DEFAULT_CSS = """
    OutboxQuestion { align: center middle; }
    OutboxQuestion > Vertical { width: 64; max-width: 100%; height: auto; border: thick $warning;
                                padding: 1 2; background: $surface; }
    """

    def question(self) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question())


class DropModal(OutboxQuestion):
    """Give a recorded creation up: it leaves the workstation, no DMP will be created."""

    BINDINGS = [
        Binding("escape", "dismiss(False)", _("Garder"), id="drop_keep"),
        Binding("f8", "dismiss(True)", _("Abandonner"), id="drop_confirm"),
    ]
    DEFAULT_CSS = """
    DropModal > Vertical { border: thick $error; }
    """

    def question(self) -> str:
        return _(
            "Abandonner cette création ? Elle sera effacée de ce poste et aucun DMP ne "
            "sera créé avec ce consentement. F8 abandonne ; Échap la garde."
        )


class QuitModal(OutboxQuestion):
    """Quitting with a patient half-way through (``patient``), or with creations recorded
    (they stay, and leave at the next start)."""

    BINDINGS = [
        Binding("escape", "dismiss(False)", _("Rester"), id="quit_stay"),
        Binding("enter", "dismiss(True)", _("Quitter"), id="quit_confirm"),
    ]

    def __init__(self, pending: int, patient: bool = False) -> None:
        super().__init__()
        self.pending, self.patient = pending, patient

    def question(self) -> str:
        if self.patient:
            return _(
                "Une création est en cours pour un patient : en quittant, ce qui a été saisi "
                "est perdu et aucun DMP n'est créé. Entrée quitte ; Échap reste."
            )
        return _(
            "{n} création(s) enregistrée(s) hors connexion attendent sur ce poste. Elles "
            "y restent, chiffrées, et seront envoyées au prochain démarrage, dès que le "
            "service DMP répondra et que vous vous serez connecté. Entrée quitte ; "
            "Échap reste.",
            n=self.pending,
        )
