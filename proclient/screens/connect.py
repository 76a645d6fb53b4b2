"""Step 2: the professional authenticates (CPS + code porteur), then the existence test (TD0.2).

The code is typed into :class:`PinField`, which keeps it in a bytearray that is handed to the
app and wiped after the one attempt (proclient/credentials/pin.py says how far that goes).
The card's flags are shown before typing: few tries left, last try, or blocked.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from proclient.credentials.pin import PIN_MAX_LENGTH, PinStatus, wipe
from proclient.domain import Action, DmpStatus
from proclient.i18n import _
from proclient.screens.base import StepScreen


class PinField(Widget, can_focus=True):
    """A masked entry for the code porteur: digits only, shown as dots, kept in a fixed
    bytearray (never a str, never grown: growing would leave copies in freed memory)."""

    BINDINGS = [
        Binding("enter", "submit", show=False),
        Binding("backspace", "erase", show=False),
    ]
    DEFAULT_CSS = """
    PinField { width: 24; height: 1; background: $boost; padding: 0 1; }
    PinField:focus { background: $accent 30%; }
    PinField:disabled { color: $text-disabled; }
    """

    class Submitted(Message):
        """The code typed; the receiver owns ``pin`` and must wipe it."""

        def __init__(self, field: PinField, pin: bytearray) -> None:
            super().__init__()
            self.field = field
            self.pin = pin

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._buffer = bytearray(PIN_MAX_LENGTH)
        self._length = 0

    @property
    def length(self) -> int:
        return self._length

    def render(self) -> str:
        return "•" * self._length if self._length else _("Code porteur")

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if character and len(character) == 1 and "0" <= character <= "9":
            event.stop()
            event.prevent_default()
            if self._length < PIN_MAX_LENGTH:
                self._buffer[self._length] = ord(character)
                self._length += 1
                self.refresh()

    def action_erase(self) -> None:
        if self._length:
            self._length -= 1
            self._buffer[self._length] = 0
            self.refresh()

    def action_submit(self) -> None:
        pin = bytearray(self._buffer[: self._length])  # the one copy, owned by the receiver
        self.clear()
        self.post_message(self.Submitted(self, pin))

    def clear(self) -> None:
        wipe(self._buffer)
        self._length = 0
        self.refresh()

    def on_unmount(self) -> None:
        wipe(self._buffer)


class ConnectScreen(StepScreen):
    step_number = 2

    DEFAULT_CSS = """
    ConnectScreen #pin-status { color: $warning; text-style: bold; height: auto; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._busy = False  # one attempt at a time, never a second one by itself

    def compose_body(self) -> ComposeResult:
        app = self.proclient
        yield Static(_("Patient : {name}", name=app.flow.patient.display_name), classes="section")
        with Vertical(id="login"):
            yield Static(_("Professionnel : {who}", who=app.credential_label), id="who")
            yield Static(_("Saisissez votre code porteur puis Entrée."))
            yield PinField(id="pin")
            yield Static("", id="pin-status")
            if app.credential_hint:
                yield Static(app.credential_hint, classes="hint")
        yield Static("", id="state")

    def on_mount(self) -> None:
        if self.proclient.authenticated:
            self.query_one("#login").display = False
            self.proclient.check_status()
        else:
            self.query_one("#pin", PinField).focus()
            self.proclient.probe_pin()

    def on_pin_field_submitted(self, event: PinField.Submitted) -> None:
        event.stop()
        if self._busy:
            wipe(event.pin)
            return
        if not event.pin:
            self.show_error(_("Saisissez votre code porteur."))
            return
        self._busy = True
        self.clear_error()
        self.set_state(_("Connexion au service DMP…"))
        self.proclient.connect(event.pin)

    def show_pin_status(self, status: PinStatus) -> None:
        """Called by the app with what the card says, before the code is typed."""
        if status.holder:
            self.query_one("#who", Static).update(_("Professionnel : {who}", who=status.holder))
        self.query_one("#pin-status", Static).update(status.warning)
        self.query_one("#pin", PinField).disabled = status.locked

    def show_card_problem(self, message: str) -> None:
        """The card could not be read before the code was typed (absent, unusable)."""
        self.query_one("#pin-status", Static).update(message)

    def set_state(self, text: str) -> None:
        self.query_one("#state", Static).update(text)

    def connected(self) -> None:
        """Called by the app when the existence test has answered."""
        self._busy = False
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

    def login_failed(self, locked: bool = False) -> None:
        self._busy = False
        self.set_state("")
        self.query_one("#login").display = True
        field = self.query_one("#pin", PinField)
        field.disabled = locked
        if not locked:
            field.focus()
            self.proclient.probe_pin()  # the flags may have changed: fewer tries left

    def go_on(self) -> None:
        self.proclient.flow.confirm_connection()
        self.proclient.show_step()
