"""Step 4 (optional): an email and/or a mobile so that the service opens a web account."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Static

from proclient.i18n import _
from proclient.messages import WebAccessChosen
from proclient.screens.base import StepScreen
from proclient.widgets.tickbox import TickBox


class OnlineAccessScreen(StepScreen):
    step_number = 4
    HELP_TEXT = (
        "Facultatif. Cochez la case si le patient veut consulter son DMP sur Internet, puis "
        "saisissez son e-mail et/ou son mobile français. Un compte web sera créé : "
        "l'identifiant et le mot de passe provisoire sont imprimés sur une feuille à part, "
        "jamais enregistrés."
    )

    DEFAULT_CSS = """
    OnlineAccessScreen #warning { color: $warning; text-style: bold; margin-top: 1; }
    """

    def compose_body(self) -> ComposeResult:
        web = self.flow.web_access
        yield Static(_("Le patient souhaite-t-il consulter son DMP sur Internet ?"))
        yield TickBox(_("Ouvrir un accès en ligne"), web is not None, compact=True, id="wanted")
        yield Input(
            web.email if web and web.email else "",
            placeholder=_("Adresse e-mail"),
            compact=True,
            id="email",
        )
        yield Input(
            web.mobile if web and web.mobile else "",
            placeholder=_("Mobile (06 ou 07)"),
            compact=True,
            id="mobile",
        )
        yield Static(
            _(
                "Attention : un compte web sera créé pour le patient. Son identifiant et son mot "
                "de passe provisoire seront imprimés sur une feuille à part, remise au patient, "
                "et ne seront enregistrés nulle part."
            ),
            id="warning",
        )
        yield Static(
            _("Sans accès en ligne, laissez la case décochée et appuyez sur F8."), classes="hint"
        )

    def on_mount(self) -> None:
        self._sync()
        self.query_one("#wanted", Checkbox).focus()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._sync()
        if event.value:
            self.query_one("#email", Input).focus()

    def _sync(self) -> None:
        wanted = self.query_one("#wanted", Checkbox).value
        for selector in ("#email", "#mobile", "#warning"):
            self.query_one(selector).display = wanted

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    def go_on(self) -> None:
        self.post_message(
            WebAccessChosen(
                self.query_one("#wanted", Checkbox).value,
                self.query_one("#email", Input).value,
                self.query_one("#mobile", Input).value,
            )
        )
