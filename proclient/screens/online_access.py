"""Step 4 (optional): an email and/or a mobile so that the service opens a web account."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Static

from proclient.core.flow import WebDraft
from proclient.core.i18n import N_, _
from proclient.messages import WebAccessChosen, WebAccessDrafted
from proclient.screens.base import StepScreen
from proclient.widgets.fields import field_input
from proclient.widgets.tickbox import TickBox


class OnlineAccessScreen(StepScreen):
    step_number = 4
    HELP_TEXT = N_(
        "Facultatif. Cochez la case si le patient veut consulter son DMP sur Internet, puis "
        "saisissez son e-mail et/ou son mobile français. Un compte web sera créé : "
        "l'identifiant et le mot de passe provisoire sont imprimés sur une feuille à part, "
        "jamais enregistrés."
    )

    DEFAULT_CSS = """
    OnlineAccessScreen .field { height: 1; }
    OnlineAccessScreen .field Static { width: 9; }
    OnlineAccessScreen .field Input { width: 1fr; max-width: 50; }
    OnlineAccessScreen #warning { color: $warning; text-style: bold; margin-top: 1; }
    """

    def compose_body(self) -> ComposeResult:
        if self.flow.offline:
            yield from self._compose_offline()
            return
        web = self.flow.web_shown
        yield Static(_("Le patient souhaite-t-il consulter son DMP sur Internet ?"))
        yield TickBox(_("Ouvrir un accès en ligne"), web.wanted, compact=True, id="wanted")
        # A visible label beside each field (a placeholder vanishes once the field is filled);
        # the placeholder only says the expected form.
        with Horizontal(classes="field", id="email-row"):
            yield Static(_("E-mail"))
            yield field_input(
                "email",
                _("E-mail"),
                web.email,
                placeholder=_("ex. prenom.nom@exemple.fr"),
                compact=True,
            )
        with Horizontal(classes="field", id="mobile-row"):
            yield Static(_("Mobile"))
            yield field_input(
                "mobile", _("Mobile"), web.mobile, placeholder=_("06 ou 07"), compact=True
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

    def _compose_offline(self) -> ComposeResult:
        from proclient.core.problems import problem_message

        yield Static(_("Le patient souhaite-t-il consulter son DMP sur Internet ?"))
        yield Static(problem_message("WEB_ACCESS_OFFLINE") or "", id="warning")
        yield Static(
            _(
                "Il pourra aussi se connecter à Mon espace santé (monespacesante.fr) une fois "
                "son DMP créé. F8 pour continuer sans accès en ligne."
            ),
            classes="hint",
        )

    def on_mount(self) -> None:
        if self.flow.offline:
            return
        self._sync()
        self.query_one("#wanted", Checkbox).focus()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        # The focus stays on the box: Tab then goes to the email, Tab again to the mobile.
        self._sync()
        self._drafted()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._drafted()

    def _drafted(self) -> None:
        """What the step shows, kept by the flow as it changes: a card pulled or Esc loses
        nothing of it."""
        if self.is_mounted and not self.flow.offline:
            draft = self.draft()
            self.post_message(WebAccessDrafted(draft.wanted, draft.email, draft.mobile))

    def _sync(self) -> None:
        wanted = self.query_one("#wanted", Checkbox).value
        for selector in ("#email-row", "#mobile-row", "#warning"):
            self.query_one(selector).display = wanted

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    def draft(self) -> WebDraft:
        """The step as it stands, unchecked (kept by the flow on Esc or a card pulled)."""
        if self.flow.offline:
            return WebDraft()
        return WebDraft(
            self.query_one("#wanted", Checkbox).value,
            self.query_one("#email", Input).value,
            self.query_one("#mobile", Input).value,
        )

    def action_back(self) -> None:
        draft = self.draft()
        self.post_message(WebAccessDrafted(draft.wanted, draft.email, draft.mobile))
        super().action_back()

    def go_on(self) -> None:
        draft = self.draft()
        self.post_message(WebAccessChosen(draft.wanted, draft.email, draft.mobile))
