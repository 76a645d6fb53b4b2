"""The lock screen: after an idle time it covers everything; the code porteur unlocks it.

It is a full screen, not a modal: nothing of the patient shows through. Unlocking logs in to
the card again and opens a new session with the service. Pulling the CPS (or F9) closes the
session instead: the patient's data are cleared and the home screen comes back.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from proclient.core.i18n import _
from proclient.messages import (
    EcpsRequested,
    JobFailed,
    PinEntered,
    PinPurpose,
    PinStatusRead,
    PinStatusRequested,
    SessionCloseRequested,
)
from proclient.widgets.footer import KeyFooter
from proclient.widgets.modal import GuardedScreen
from proclient.widgets.pin import PinEntry


class LockScreen(GuardedScreen):
    AUTO_FOCUS = "#pin"
    title_text = "Session verrouillée"
    HELP_TEXT = (
        "Le poste s'est verrouillé après un temps d'inactivité. Saisissez votre code porteur "
        "puis Entrée (ou F2 : e-CPS, sur votre téléphone) pour reprendre là où vous en étiez. "
        "Un autre professionnel : retirez la carte CPS ou appuyez sur F9 ; les données du "
        "patient sont alors effacées."
    )
    BINDINGS = [
        Binding("f2", "ecps", _("e-CPS"), id="lock_ecps"),
        Binding("f9", "close_session", _("Fermer la session"), id="close_session"),
        Binding("f7", "unblock_demo_cps", _("Débloquer (démo)"), id="unblock_demo_cps"),
        Binding("escape", "ignore", show=False),  # no way back but the code
    ]

    DEFAULT_CSS = """
    LockScreen { align: center middle; }
    LockScreen #lock-box { width: 72; max-width: 100%; height: auto; border: round $accent;
                           padding: 1 2; }
    LockScreen #lock-title { text-style: bold; }
    LockScreen #lock-error { color: $error; text-style: bold; height: auto; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="lock-box"):
            yield Static(_("Session verrouillée"), id="lock-title")
            yield Static(
                _(
                    "Le poste est resté inactif. Saisissez votre code porteur puis "
                    "Entrée pour reprendre là où vous en étiez (sans carte : F2 e-CPS)."
                )
            )
            yield PinEntry(PinPurpose.UNLOCK, id="pin-entry")
            yield Static("", id="lock-error")
            yield Static(
                _(
                    "Pour changer de professionnel : retirez la carte CPS ou F9 ; "
                    "les données du patient sont alors effacées."
                ),
                classes="hint",
            )
        yield KeyFooter()

    @property
    def entry(self) -> PinEntry:
        return self.query_one("#pin-entry", PinEntry)

    def on_mount(self) -> None:
        self.post_message(PinStatusRequested())

    def on_pin_entered(self, event: PinEntered) -> None:
        self.show_error(_("Vérification du code porteur…"))

    def on_pin_status_read(self, message: PinStatusRead) -> None:
        self.entry.show_status(message.status)

    def on_job_failed(self, failure: JobFailed) -> None:
        if not self.entry.refused(failure):
            self.show_error(failure.message)

    def show_error(self, message: str) -> None:
        self.query_one("#lock-error", Static).update(message)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F7 only for a blocked demo card."""
        if action == "unblock_demo_cps":
            entries = self.query(PinEntry)
            return bool(entries) and entries.first().demo_unblock_offered
        return super().check_action(action, parameters)

    def action_unblock_demo_cps(self) -> None:
        if self.entry.demo_unblock_offered:
            self.show_error("")
            self.entry.request_demo_unblock()

    def action_ecps(self) -> None:
        self.post_message(EcpsRequested(PinPurpose.UNLOCK))

    def action_close_session(self) -> None:
        self.post_message(SessionCloseRequested())

    def action_ignore(self) -> None:
        pass
