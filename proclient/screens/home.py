"""Home: reader and service state, and the one thing to do: insert the patient's card."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from proclient.core.i18n import N_, _
from proclient.messages import (
    CardRereadRequested,
    DemoCardInsertRequested,
    HomeStatus,
    JournalRequested,
    ManualEntryRequested,
    OutboxRequested,
    VerifyRequested,
)
from proclient.screens.base import BaseScreen
from proclient.widgets.modal import Modal


class HomeScreen(BaseScreen):
    title_text = N_("Accueil")
    HELP_TEXT = N_(
        "Insérez la carte Vitale du patient dans le lecteur : elle est lue aussitôt. "
        "Une carte illisible (Vitale 1, carte oubliée) : F6 pour saisir l'identité. "
        "F9 ouvre le journal des accusés enregistrés sur ce poste. F7 liste les créations "
        "enregistrées hors connexion qui attendent le service DMP. F8 vérifie un accusé : "
        "scannez son code 2D."
    )

    BINDINGS = [
        Binding("f2", "demo_card", _("Insérer"), id="demo_card"),
        Binding("f5", "reread", _("Relire"), id="reread"),
        Binding("f6", "manual_entry", _("Saisie"), id="manual_entry"),
        Binding("f7", "outbox", _("En attente"), id="outbox"),
        Binding("f8", "verify", _("Vérifier"), id="verify"),
        Binding("f9", "journal", _("Journal"), id="journal"),
        Binding("f10", "app.quit", _("Quitter"), id="quit_home"),
    ]

    DEFAULT_CSS = """
    HomeScreen #prompt { text-style: bold; content-align: center middle; height: 5;
                         border: round $accent; margin: 1 0; }
    HomeScreen #status { height: auto; }
    """

    def __init__(self, context) -> None:
        super().__init__(context)
        self.status = HomeStatus("", "")

    def compose_body(self) -> ComposeResult:
        yield Static(_("Insérez la carte Vitale du patient"), id="prompt")
        yield Static("", id="status")
        if self.station.demo:
            yield Static(
                _(
                    "Démonstration : F2 insère une carte Vitale virtuelle, F3 la retire ; "
                    "F4 retire ou remet la carte CPS du professionnel ; F12 coupe ou rétablit "
                    "le réseau (service DMP injoignable)."
                ),
                classes="hint",
            )

    def on_mount(self) -> None:
        self._render_status()

    def on_home_status(self, message: HomeStatus) -> None:
        self.status = message
        if self.is_mounted:
            self._render_status()
            self.refresh_bindings()

    def _render_status(self) -> None:
        status = self.status
        # Plain text: a PC/SC reader's name often carries brackets ("… [CCID Interface] 00 00").
        self.query_one("#status", Static).update(
            Content(
                "\n".join(
                    (
                        _("Lecteur : {state}", state=status.reader),
                        _("Service DMP : {state}", state=status.service),
                        *((status.outbox,) if status.outbox else ()),
                    )
                )
            )
        )
        self.query_one("#prompt", Static).update(
            Content(status.prompt or _("Insérez la carte Vitale du patient"))
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo_card":
            return self.station.demo
        if action == "outbox":
            return bool(self.status.outbox)
        return True

    def action_demo_card(self) -> None:
        self.app.push_screen(DemoCardPicker(self.station.demo_cards), self._inserted)

    def _inserted(self, key: str | None) -> None:
        if key:
            self.post_message(DemoCardInsertRequested(key))

    def action_outbox(self) -> None:
        self.post_message(OutboxRequested())

    def action_journal(self) -> None:
        self.post_message(JournalRequested())

    def action_verify(self) -> None:
        self.post_message(VerifyRequested())

    def action_manual_entry(self) -> None:
        self.post_message(ManualEntryRequested())

    def action_reread(self) -> None:
        self.post_message(CardRereadRequested())


class DemoCardPicker(Modal):
    """Choose which virtual Carte Vitale to insert in the demo reader.

    Enter and Esc are the screen's own bindings (Enter before the list's): in a burst of
    keys the first one closes it and the others, meant for it, are dropped by the App. Up and
    Down are the screen's too, on a highlight that starts on the first card: typed as soon as
    the picker shows, before its list has taken the focus, they still move it (a Down lost
    there inserted the first card instead of the second)."""

    BINDINGS = [
        Binding("enter", "choose", _("Insérer"), id="choose_card", priority=True),
        Binding("escape", "dismiss(None)", _("Annuler"), id="cancel_picker"),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    DemoCardPicker { align: center middle; }
    DemoCardPicker > Vertical { width: 70; max-width: 100%; height: auto; max-height: 100%; border: thick $accent; padding: 1 2;
                                background: $surface; }
    DemoCardPicker OptionList { height: auto; max-height: 10; }
    """

    def __init__(self, cards) -> None:
        super().__init__()
        self._cards = cards

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(_("Quelle carte Vitale de démonstration insérer ?"))
            options = OptionList(
                *(Option(Content(card.label), id=card.key) for card in self._cards)
            )
            options.highlighted = 0
            yield options

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        current = options.highlighted or 0
        options.highlighted = max(0, min(current + step, options.option_count - 1))

    def action_choose(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)  # a click
