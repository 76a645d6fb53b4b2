"""Step 3: consent to the creation (mandatory) and the two emergency accesses (HOM 99, 101).

The emergency accesses are authorised by default; the patient may refuse either. A minor's
legal representative is asked for here.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Input, Select, Static

from proclient.domain import Action, Consent, Relationship
from proclient.i18n import _
from proclient.messages import ConsentGiven
from proclient.screens.base import StepScreen
from proclient.widgets.tickbox import TickBox


class ConsentScreen(StepScreen):
    step_number = 3
    HELP_TEXT = (
        "Le consentement du patient est obligatoire et n'est jamais coché d'avance. Les deux "
        "accès d'urgence (SAMU centre 15, bris de glace) sont autorisés sauf si le patient les "
        "refuse : décochez-les alors. Pour un mineur, saisissez son représentant légal."
    )

    def compose_body(self) -> ComposeResult:
        flow = self.flow
        consent, rep = flow.consent, flow.legal_representative
        verb = _("la réactivation") if flow.action is Action.REACTIVATION else _("la création")
        yield Static(_("Patient : {name}", name=flow.patient.display_name), classes="section")
        yield TickBox(
            _("Le patient consent à {verb} de son DMP", verb=verb),
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
                yield Select(
                    [(r.label, r.value) for r in Relationship],
                    prompt=_("Lien avec le patient"),
                    value=rep.relationship.value if rep else Select.NULL,
                    compact=True,
                    id="relationship",
                )
                yield Input(
                    rep.last_name if rep else "", placeholder=_("Nom"), compact=True, id="rep_last"
                )
                yield Input(
                    rep.first_name if rep else "",
                    placeholder=_("Prénom"),
                    compact=True,
                    id="rep_first",
                )
        yield Static(_("Espace coche ou décoche ; F8 pour continuer."), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#creation", Checkbox).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    def go_on(self) -> None:
        consent = Consent(
            creation=self.query_one("#creation", Checkbox).value,
            samu_access=self.query_one("#samu", Checkbox).value,
            break_glass_access=self.query_one("#break_glass", Checkbox).value,
        )
        given = ConsentGiven(consent)
        if self.flow.needs_legal_representative:
            relationship = self.query_one("#relationship", Select).value
            given.relationship = "" if relationship is Select.NULL else str(relationship)
            given.representative_last_name = self.query_one("#rep_last", Input).value
            given.representative_first_name = self.query_one("#rep_first", Input).value
        self.post_message(given)
