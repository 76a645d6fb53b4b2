"""Step 2: the professional authenticates (CPS + code porteur), then the existence test (TD0.2).

The code is typed into :class:`~proclient.widgets.pin.PinEntry`, which hands it to the App in
a bytearray wiped after the one attempt (proclient/credentials/pin.py says how far that goes).
The card's flags are shown before typing: few tries left, last try, or blocked.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from proclient.domain import Action, DmpStatus
from proclient.i18n import _
from proclient.messages import (
    Connected,
    ConnectionConfirmed,
    JobFailed,
    PinEntered,
    PinStatusRead,
    PinStatusRequested,
)
from proclient.screens.base import StepScreen
from proclient.widgets.pin import PinEntry, PinField

__all__ = ["ConnectScreen", "PinField"]


class ConnectScreen(StepScreen):
    step_number = 2
    HELP_TEXT = (
        "Saisissez le code porteur de votre carte CPS puis Entrée : un seul essai par Entrée, "
        "jamais d'essai automatique. Après trois codes faux la carte se bloque. Le service dit "
        "ensuite si le patient a déjà un DMP."
    )

    def compose_body(self) -> ComposeResult:
        station = self.station
        yield Static(_("Patient : {name}", name=self.flow.patient.display_name), classes="section")
        with Vertical(id="login"):
            yield Static(_("Professionnel : {who}", who=station.credential_label), id="who")
            yield Static(_("Saisissez votre code porteur puis Entrée."))
            yield PinEntry(id="pin-entry")
            if station.credential_hint:
                yield Static(station.credential_hint, classes="hint")
        yield Static("", id="state")

    @property
    def entry(self) -> PinEntry:
        return self.query_one("#pin-entry", PinEntry)

    def on_mount(self) -> None:
        if self.station.authenticated:
            self.query_one("#login").display = False  # the App checks the status by itself
        else:
            self.entry.field.focus()
            self.post_message(PinStatusRequested())

    def on_pin_entry_empty(self, event: PinEntry.Empty) -> None:
        self.show_error(_("Saisissez votre code porteur."))

    def on_pin_entered(self, event: PinEntered) -> None:
        # On its way up to the App: say what is happening meanwhile.
        self.clear_error()
        self.set_state(_("Connexion au service DMP…"))

    def on_pin_status_read(self, message: PinStatusRead) -> None:
        status = message.status
        if status.holder:
            self.query_one("#who", Static).update(_("Professionnel : {who}", who=status.holder))
        self.entry.show_status(status)

    def set_state(self, text: str) -> None:
        self.query_one("#state", Static).update(text)

    def on_connected(self, message: Connected) -> None:
        """The existence test has answered: say what can be done."""
        self.entry.succeeded()
        flow = self.flow
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

    def on_job_failed(self, failure: JobFailed) -> None:
        if self.entry.refused(failure):
            return
        self.show_error(failure.message)
        self.set_state("")
        self.query_one("#login").display = True

    def go_on(self) -> None:
        self.post_message(ConnectionConfirmed())
