"""Step 1: the identity read from the card; on a family card, choose the beneficiary."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from proclient.core.domain import DomainError, format_nir, is_minor
from proclient.core.i18n import N_, _
from proclient.messages import BeneficiaryChosen
from proclient.screens.base import StepScreen


class IdentifyScreen(StepScreen):
    step_number = 1
    HELP_TEXT = N_(
        "Vérifiez l'identité lue sur la carte avec le patient. Sur une carte de famille, "
        "choisissez le bénéficiaire avec les flèches puis Entrée."
    )

    def compose_body(self) -> ComposeResult:
        flow = self.flow
        card = flow.card
        assert card is not None
        count = len(card.beneficiaries)
        yield Static(
            _("Carte Vitale lue : {n} bénéficiaire(s). Choisissez le patient puis Entrée.", n=count)
            if count > 1
            else _("Carte Vitale lue. Vérifiez l'identité avec le patient puis Entrée."),
        )
        options = []
        for index, person in enumerate(card.beneficiaries):
            nir = format_nir(person.nir) if person.nir else _("absent de la carte")
            minor = _(" — mineur") if is_minor(person.birth_date, flow.today, flow.majority) else ""
            lunar = _(" (date lunaire)") if person.birth_date.is_lunar else ""
            # Two lines: the NIR keeps a line of its own, never wrapped mid-number (60 columns).
            label = _(
                "{name}  né(e) le {birth}{lunar}{minor}\n  NIR {nir}",
                name=person.display_name,
                birth=person.birth_date.display,
                lunar=lunar,
                nir=nir,
                minor=minor,
            )
            options.append(Option(Content(label), id=str(index)))
        yield OptionList(*options, id="beneficiaries")

    def on_mount(self) -> None:
        beneficiaries = self.query_one("#beneficiaries", OptionList)
        beneficiaries.highlighted = self.flow.beneficiary_index or 0
        beneficiaries.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_next()

    def go_on(self) -> None:
        highlighted = self.query_one("#beneficiaries", OptionList).highlighted
        if highlighted is None:
            raise DomainError("BENEFICIARY", _("Choisissez un bénéficiaire dans la liste."))
        self.post_message(BeneficiaryChosen(highlighted))
