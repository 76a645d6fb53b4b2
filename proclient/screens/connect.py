"""Step 2: the professional authenticates (PIN), then the existence test (TD0.2) answers."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from proclient.domain import Action, DmpStatus
from proclient.i18n import _
from proclient.screens.base import StepScreen


class ConnectScreen(StepScreen):
    step_number = 2

    def compose_body(self) -> ComposeResult:
        app = self.proclient
        yield Static(_("Patient : {name}", name=app.flow.patient.display_name), classes="section")
        with Vertical(id="login"):
            yield Static(_("Professionnel : {who}", who=app.credential_label))
            yield Static(_("Saisissez votre code porteur puis Entrée."))
            yield Input(
                password=True, max_length=8, placeholder=_("Code porteur"), compact=True, id="pin"
            )
            if app.credential_hint:
                yield Static(app.credential_hint, classes="hint")
        yield Static("", id="state")

    def on_mount(self) -> None:
        if self.proclient.authenticated:
            self.query_one("#login").display = False
            self.proclient.check_status()
        else:
            self.query_one("#pin", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        pin = event.value
        event.input.value = ""  # the PIN leaves the screen at once
        if not pin:
            self.show_error(_("Saisissez votre code porteur."))
            return
        self.clear_error()
        self.set_state(_("Connexion au service DMP…"))
        self.proclient.connect(pin)

    def set_state(self, text: str) -> None:
        self.query_one("#state", Static).update(text)

    def connected(self) -> None:
        """Called by the app when the existence test has answered."""
        flow = self.proclient.flow
        self.query_one("#login").display = False
        who = flow.professional.display_name if flow.professional else ""
        lines = [_("Connecté : {who}.", who=who)]
        if flow.dmp_state.status is DmpStatus.ACTIVE:
            lines.append(
                _(
                    "Ce patient a déjà un DMP actif : il n'y a rien à créer. "
                    "Échap pour revenir, ou retirez la carte."
                )
            )
        elif flow.action is Action.REACTIVATION:
            lines.append(
                _(
                    "Le DMP de ce patient est fermé : il peut être réactivé avec son "
                    "consentement. F8 pour continuer."
                )
            )
        else:
            lines.append(_("Aucun DMP pour ce patient : création possible. F8 pour continuer."))
        self.set_state("\n".join(lines))

    def login_failed(self) -> None:
        self.set_state("")
        self.query_one("#login").display = True
        self.query_one("#pin", Input).focus()

    def go_on(self) -> None:
        self.proclient.flow.confirm_connection()
        self.proclient.show_step()
