"""The lock screen: after an idle time it covers everything; the code porteur unlocks it.

It is a full screen, not a modal: nothing of the patient shows through. Unlocking logs in to
the card again and opens a new session with the service. Pulling the CPS (or F9) closes the
session instead: the patient's data are cleared and the home screen comes back.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from proclient.credentials.pin import PinStatus, wipe
from proclient.i18n import _
from proclient.screens.connect import PinField


class LockScreen(Screen):
    AUTO_FOCUS = "#pin"
    BINDINGS = [
        Binding("f9", "close_session", _("Fermer la session"), id="close_session"),
        Binding("escape", "ignore", show=False),  # no way back but the code
    ]

    DEFAULT_CSS = """
    LockScreen { align: center middle; }
    LockScreen #lock-box { width: 72; height: auto; border: round $accent; padding: 1 2; }
    LockScreen #lock-title { text-style: bold; }
    LockScreen #lock-status { color: $warning; text-style: bold; height: auto; }
    LockScreen #lock-error { color: $error; text-style: bold; height: auto; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="lock-box"):
            yield Static(_("Session verrouillée"), id="lock-title")
            yield Static(_("Le poste est resté inactif. Saisissez votre code porteur puis "
                           "Entrée pour reprendre là où vous en étiez."))
            yield PinField(id="pin")
            yield Static("", id="lock-status")
            yield Static("", id="lock-error")
            yield Static(_("Pour changer de professionnel : retirez la carte CPS ou F9 ; "
                           "les données du patient sont alors effacées."), classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.app.probe_pin()  # type: ignore[attr-defined]

    def on_pin_field_submitted(self, event: PinField.Submitted) -> None:
        event.stop()
        if self._busy or not event.pin:
            wipe(event.pin)
            return
        self._busy = True
        self.show_error(_("Vérification du code porteur…"))
        self.app.unlock_session(event.pin)  # type: ignore[attr-defined]

    def show_pin_status(self, status: PinStatus) -> None:
        self.query_one("#lock-status", Static).update(status.warning)
        self.query_one("#pin", PinField).disabled = status.locked

    def show_card_problem(self, message: str) -> None:
        self.query_one("#lock-status", Static).update(message)

    def show_error(self, message: str) -> None:
        self.query_one("#lock-error", Static).update(message)

    def login_failed(self, locked: bool = False) -> None:
        self._busy = False
        field = self.query_one("#pin", PinField)
        field.disabled = locked
        if not locked:
            field.focus()
            self.app.probe_pin()  # type: ignore[attr-defined]

    def action_close_session(self) -> None:
        self.app.close_session()  # type: ignore[attr-defined]

    def action_ignore(self) -> None:
        pass
