"""Step 1 without a readable card (Vitale 1, forgotten card): the identity is typed.

The receipt then says the identity was typed, not read (IdentitySource.TYPED). The NIR's key
is checked and the sex comes from the NIR; a lunar birth date is typed as written (00/00/1955).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Static

from proclient.i18n import _
from proclient.messages import IdentityTyped
from proclient.screens.base import StepScreen

FIELDS = ("last_name", "first_name", "birth", "nir")


class ManualEntryScreen(StepScreen):
    step_number = 1
    HELP_TEXT = (
        "Saisissez l'identité d'après la carte Vitale ou une pièce d'identité : nom de "
        "naissance, prénom, date de naissance (00 pour un jour ou un mois inconnu) et NIR avec "
        "sa clé. Le sexe est déduit du NIR."
    )

    def compose_body(self) -> ComposeResult:
        yield Static(
            _(
                "Saisie manuelle de l'identité (d'après la carte Vitale ou une pièce "
                "d'identité du patient)."
            )
        )
        yield Input(placeholder=_("Nom de naissance"), compact=True, id="last_name")
        yield Input(placeholder=_("Prénom"), compact=True, id="first_name")
        yield Input(
            placeholder=_("Date de naissance JJ/MM/AAAA (00 si inconnu)"), compact=True, id="birth"
        )
        yield Input(placeholder=_("NIR : 15 caractères, clé comprise"), compact=True, id="nir")
        yield Static("", id="sex", classes="hint")
        yield Static(
            _("Tab passe au champ suivant ; Entrée ou F8 pour continuer, Échap pour annuler."),
            classes="hint",
        )

    def on_mount(self) -> None:
        patient = self.flow.patient
        if patient is not None:  # back from step 2: what was typed is kept
            self.query_one("#last_name", Input).value = patient.last_name
            self.query_one("#first_name", Input).value = patient.first_name
            self.query_one("#birth", Input).value = patient.birth_date.display
            self.query_one("#nir", Input).value = patient.ins.value
        self.query_one("#last_name", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "nir":
            from proclient.domain import compact_nir, sex_from_nir

            sex = sex_from_nir(event.value) if len(compact_nir(event.value)) >= 1 else None
            self.query_one("#sex", Static).update(
                _("Sexe (d'après le NIR) : {sex}", sex=sex.label) if sex else ""
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        index = FIELDS.index(event.input.id or "nir")
        if index < len(FIELDS) - 1 and not event.value.strip():
            return
        if index < len(FIELDS) - 1:
            self.query_one(f"#{FIELDS[index + 1]}", Input).focus()
            return
        self.action_next()

    def go_on(self) -> None:
        values = {name: self.query_one(f"#{name}", Input).value for name in FIELDS}
        self.post_message(
            IdentityTyped(values["last_name"], values["first_name"], values["birth"], values["nir"])
        )
