"""Signing in with e-CPS (Pro Santé Connect's phone app) instead of the CPS card.

The professional types their national id once (remembered on this workstation), Enter asks
their phone through the DMP service, and the screen shows the time left while the e-CPS app
waits for approval. Esc cancels (the service stops asking PSC). Refused, expired, unknown
professional, PSC or the service unreachable: one sentence each, and Enter asks again.
In the demo, two keys stand for the phone: approve or refuse on the e-CPS app.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.core.national_id import national_id
from proclient.messages import (
    DemoPhoneAnswered,
    EcpsStartRequested,
    EcpsWaiting,
    JobFailed,
    PinPurpose,
)
from proclient.widgets.footer import KeyFooter
from proclient.widgets.modal import Modal


def time_left(seconds: int) -> str:
    """« 1 min 54 s », « 45 s »."""
    seconds = max(0, seconds)
    if seconds >= 60:
        return _("{m} min {s:02d} s", m=seconds // 60, s=seconds % 60)
    return _("{s} s", s=seconds)


class EcpsScreen(Modal):
    """Closed by the e-CPS route once signed in; Esc dismisses it (None)."""

    AUTO_FOCUS = "#national-id"
    BINDINGS = [
        Binding("escape", "leave", _("Annuler"), id="ecps_cancel"),
        Binding("f6", "phone(True)", _("Téléphone (démo) : approuver"), id="ecps_phone_approve"),
        Binding("f7", "phone(False)", _("Téléphone (démo) : refuser"), id="ecps_phone_refuse"),
    ]
    DEFAULT_CSS = """
    EcpsScreen { align: center middle; }
    EcpsScreen > Vertical { width: 72; max-width: 100%; height: auto; max-height: 100%;
                            border: thick $accent; padding: 1 2; background: $surface; }
    EcpsScreen #ecps-title { text-style: bold; }
    EcpsScreen #national-id { width: 100%; max-width: 30; }
    EcpsScreen #ecps-state { height: auto; text-style: bold; }
    EcpsScreen #ecps-error { height: auto; color: $error; text-style: bold; }
    """

    def __init__(self, purpose: PinPurpose, national_id: str = "", demo: bool = False) -> None:
        super().__init__()
        self.purpose = purpose
        self.remembered = national_id
        self.demo = demo
        self.waiting = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(_("Connexion avec e-CPS (Pro Santé Connect)"), id="ecps-title")
            yield Static(
                _(
                    "Sans carte CPS, votre téléphone valide la connexion dans l'application "
                    "e-CPS : saisissez votre numéro RPPS (ou identifiant national) puis Entrée."
                )
            )
            yield Input(
                self.remembered,
                id="national-id",
                max_length=16,
                restrict=r"[0-9 ]*",
                placeholder=_("ex. 99700024450"),
            )
            yield Static("", id="ecps-state")
            yield Static("", id="ecps-error")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "phone":
            return self.demo and self.waiting
        return super().check_action(action, parameters)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.waiting:
            return
        try:
            typed = national_id(event.value)
        except DomainError as error:
            self._say("", error.message)
            return
        self._set_waiting(True)
        self._say(_("Demande envoyée à votre téléphone…"), "")
        self.post_message(EcpsStartRequested(typed, self.purpose))

    def on_ecps_waiting(self, message: EcpsWaiting) -> None:
        if not self.waiting:
            return
        self._say(
            _(
                "Validez la connexion dans l'application e-CPS de votre téléphone "
                "(Temps restant : {left}) ; Échap annule.",
                left=time_left(message.seconds_left),
            ),
            "",
        )

    def on_job_failed(self, failure: JobFailed) -> None:
        if failure.code == "CANCELLED":
            return
        self._set_waiting(False)
        self._say("", failure.message)

    def _set_waiting(self, waiting: bool) -> None:
        self.waiting = waiting
        field = self.query_one("#national-id", Input)
        field.disabled = waiting
        if not waiting:
            field.focus()
        self.refresh_bindings()

    def _say(self, state: str, error: str) -> None:
        self.query_one("#ecps-state", Static).update(state)
        self.query_one("#ecps-error", Static).update(error)

    def action_leave(self) -> None:
        """Esc: the screen goes, and with it the sign-in job it owns (its cancellation tells
        the service to stop asking PSC: controllers/ecps.py)."""
        self.dismiss(None)

    def action_phone(self, approve: bool) -> None:
        self.post_message(DemoPhoneAnswered(approve))
