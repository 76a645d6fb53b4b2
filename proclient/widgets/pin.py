"""Typing the code porteur: one widget for the connection step and the lock screen.

:class:`PinField` keeps the code in a fixed bytearray (never a ``str``, never grown: growing
would leave copies in freed memory) and hands it over once, in a :class:`PinEntered` intent;
the receiver wipes it after the one attempt. :class:`PinEntry` adds what the card says (tries
left, blocked) and allows one attempt at a time: never a second one by itself. A blocked demo
card may be unblocked by the screen's F7 (:attr:`PinEntry.demo_unblock_offered`).
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from proclient.core.i18n import _
from proclient.credentials.pin import PIN_MAX_LENGTH, PinStatus, wipe
from proclient.messages import (
    DemoCpsUnblockRequested,
    JobFailed,
    PinEntered,
    PinPurpose,
    PinStatusRequested,
)


class PinField(Widget, can_focus=True):
    """A masked entry: digits only, shown as dots."""

    BINDINGS = [
        Binding("enter", "submit", show=False),
        Binding("backspace", "erase", show=False),
    ]
    DEFAULT_CSS = """
    PinField { width: 24; height: 1; background: $boost; padding: 0 1; }
    PinField:focus { background: $accent 30%; text-style: underline; }  /* not colour alone */
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


class PinEntry(Vertical):
    """The field, the card's word on the code, and one attempt at a time."""

    DEFAULT_CSS = """
    PinEntry { height: auto; }
    PinEntry #pin-status { color: $warning; text-style: bold; height: auto; }
    """

    def __init__(self, purpose: PinPurpose = PinPurpose.LOGIN, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.purpose = purpose
        self.busy = False
        self.status = PinStatus()  # what the card said last
        self.blocked = False

    def compose(self) -> ComposeResult:
        yield PinField(id="pin")
        yield Static("", id="pin-status")

    @property
    def field(self) -> PinField:
        return self.query_one("#pin", PinField)

    def on_pin_field_submitted(self, event: PinField.Submitted) -> None:
        event.stop()
        if self.busy or not event.pin:
            empty = not event.pin
            wipe(event.pin)
            if empty and not self.busy:
                self.post_message(self.Empty())
            return
        self.busy = True
        self.post_message(PinEntered(event.pin, self.purpose))

    class Empty(Message):
        """Enter with no code typed."""

    def show_status(self, status: PinStatus) -> None:
        """What the card says about its code, before typing."""
        was_blocked, self.status = self.blocked, status
        self.query_one("#pin-status", Static).update(status.warning)
        self._set_blocked(status.locked)
        if was_blocked and not status.locked and not self.busy:
            self.field.focus()  # unblocked (the demo card): type the code again

    def show_problem(self, message: str) -> None:
        """The card could not be asked (absent, unusable)."""
        self.query_one("#pin-status", Static).update(message)

    def failed(self, locked: bool = False) -> None:
        """The attempt is over and refused: the field is free again (unless blocked)."""
        self.busy = False
        self._set_blocked(locked)
        if locked:
            self.show_problem("")  # the screen says it is blocked; no stale "last try" here
        else:
            self.field.focus()

    def _set_blocked(self, blocked: bool) -> None:
        self.blocked = blocked
        self.field.disabled = blocked
        self.screen.refresh_bindings()  # the demo's F7 comes and goes with the block

    @property
    def demo_unblock_offered(self) -> bool:
        """The demo card is blocked: F7 may give its tries back (never a real card)."""
        return self.blocked and self.status.demo

    def request_demo_unblock(self) -> None:
        if self.demo_unblock_offered:
            self.post_message(DemoCpsUnblockRequested())

    def refused(self, failure: JobFailed) -> bool:
        """Take a failure meant for this entry: the card could not be asked (True, nothing
        more to show), or the attempt was refused (False: the screen shows the sentence);
        after a refusal the card's flags are asked again, unless it is blocked."""
        if failure.job == "pin-status":
            self.show_problem(failure.message)
            return True
        locked = failure.code == "PIN_LOCKED"
        self.failed(locked=locked)
        if not locked:
            self.post_message(PinStatusRequested())  # the flags may have changed
        return False

    def succeeded(self) -> None:
        self.busy = False
