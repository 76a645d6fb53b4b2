"""Step 3: consent to the creation (mandatory) and the two emergency accesses (HOM 99, 101).

The emergency accesses are authorised by default; the patient may refuse either. A minor's
legal representative is asked for here.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Checkbox, Input, OptionList, Select, Static

from proclient.core.domain import Action, Consent, Relationship
from proclient.core.flow import ConsentDraft
from proclient.core.i18n import N_, _
from proclient.messages import ConsentDrafted, ConsentGiven
from proclient.screens.base import StepScreen
from proclient.widgets.fields import field_input
from proclient.widgets.tickbox import TickBox

OTHER = "other"  # the representative is not on the card: typed


def _chosen(adults, shown):
    """The card's adult already given as the representative (coming back), if any."""
    if not shown.last_name and not shown.first_name:
        return Select.NULL
    for index, person in enumerate(adults):
        if (person.last_name.upper(), person.first_name) == (
            shown.last_name.upper(),
            shown.first_name,
        ):
            return str(index)
    return OTHER


class ConsentScreen(StepScreen):
    step_number = 3
    HELP_TEXT = N_(
        "Le consentement du patient est obligatoire et n'est jamais coché d'avance. Les deux "
        "accès d'urgence (SAMU centre 15, bris de glace) sont autorisés sauf si le patient les "
        "refuse : décochez-les alors. Pour un mineur, choisissez son représentant légal parmi "
        "les bénéficiaires majeurs de la carte, ou saisissez-le, puis le lien avec l'enfant."
    )

    DEFAULT_CSS = """
    ConsentScreen .field { height: 1; }
    ConsentScreen .field > Static { width: 15; }
    ConsentScreen .field Input { width: 1fr; max-width: 50; }
    ConsentScreen .field Select { width: 1fr; max-width: 50; }
    """

    def compose_body(self) -> ComposeResult:
        flow = self.flow
        shown = flow.consent_shown
        consent = shown.consent
        verb = _("la réactivation") if flow.action is Action.REACTIVATION else _("la création")
        yield Static(_("Patient : {name}", name=flow.display_name), classes="section")
        yield TickBox(
            _("Le représentant légal consent à {verb} du DMP de l'enfant", verb=verb)
            if flow.needs_legal_representative
            else _("Le patient consent à {verb} de son DMP", verb=verb),
            consent.creation,
            compact=True,
            id="creation",
        )
        yield Static(
            _("Accès en cas d'urgence (autorisés sauf refus du patient) :"), classes="section"
        )
        yield TickBox(
            _("Médecin régulateur du SAMU (centre 15)"),
            consent.samu_access,
            on_word=_("autorisé"),
            off_word=_("refusé"),
            compact=True,
            id="samu",
        )
        yield TickBox(
            _("Bris de glace : tout professionnel, si la vie du patient est en danger"),
            consent.break_glass_access,
            on_word=_("autorisé"),
            off_word=_("refusé"),
            compact=True,
            id="break_glass",
        )
        if flow.needs_legal_representative:
            with Vertical(id="representative"):
                yield Static(_("Patient mineur : représentant légal"), classes="section")
                adults = flow.adults_on_card
                if adults:
                    # The insured parent is usually on the same card: choose them rather
                    # than type them; anyone else is typed below.
                    with Horizontal(classes="field"):
                        yield Static(_("Représentant"))
                        yield Select(
                            [(person.display_name, str(i)) for i, person in enumerate(adults)]
                            + [(_("Une autre personne (saisir son nom)"), OTHER)],
                            prompt=_("bénéficiaire de la carte ou autre"),
                            value=_chosen(adults, shown),
                            compact=True,
                            id="rep_choice",
                        )
                # A visible label beside each field: a placeholder vanishes once filled.
                with Horizontal(classes="field"):
                    yield Static(_("Lien"))
                    yield Select(
                        [(r.label, r.value) for r in Relationship],
                        prompt=_("à choisir"),
                        value=shown.relationship or Select.NULL,
                        compact=True,
                        id="relationship",
                    )
                with Horizontal(classes="field"):
                    yield Static(_("Nom"))
                    yield field_input("rep_last", _("Nom"), shown.last_name, compact=True)
                with Horizontal(classes="field"):
                    yield Static(_("Prénom"))
                    yield field_input("rep_first", _("Prénom"), shown.first_name, compact=True)
        yield Static(_("Espace coche ou décoche ; F8 pour continuer."), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#creation", Checkbox).focus()
        self._undim_blank_entries()

    def _undim_blank_entries(self) -> None:
        """Textual dims the blank entry of an open list (« à choisir »): 3.2:1 on the
        highlight, under WCAG AA. It is written in italics instead, at the text's contrast."""
        for entries in self.query("SelectOverlay").results(OptionList):
            first = entries.get_option_at_index(0) if entries.option_count else None
            if first is not None and isinstance(first.prompt, Text) and first.prompt.style == "dim":
                entries.replace_option_prompt_at_index(
                    0, Content.styled(first.prompt.plain, "italic")
                )

    def on_select_changed(self, event: Select.Changed) -> None:
        self._drafted()
        if event.select.id != "rep_choice" or event.value in (Select.NULL, OTHER):
            return
        person = self.flow.adults_on_card[int(str(event.value))]
        self.query_one("#rep_last", Input).value = person.last_name
        self.query_one("#rep_first", Input).value = person.first_name

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._drafted()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._drafted()

    def _drafted(self) -> None:
        """What the step shows, kept by the flow as it changes: a card pulled or Esc loses
        nothing of it."""
        if self.is_mounted:
            self.post_message(ConsentDrafted(self.draft()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    def draft(self) -> ConsentDraft:
        """The step as it stands, unchecked (kept by the flow on Esc or a card pulled)."""
        consent = Consent(
            creation=self.query_one("#creation", Checkbox).value,
            samu_access=self.query_one("#samu", Checkbox).value,
            break_glass_access=self.query_one("#break_glass", Checkbox).value,
        )
        if not self.flow.needs_legal_representative:
            return ConsentDraft(consent)
        relationship = self.query_one("#relationship", Select).value
        return ConsentDraft(
            consent,
            "" if relationship is Select.NULL else str(relationship),
            self.query_one("#rep_last", Input).value,
            self.query_one("#rep_first", Input).value,
        )

    def action_back(self) -> None:
        self.post_message(ConsentDrafted(self.draft()))
        super().action_back()

    def go_on(self) -> None:
        draft = self.draft()
        self.post_message(
            ConsentGiven(draft.consent, draft.relationship, draft.last_name, draft.first_name)
        )
