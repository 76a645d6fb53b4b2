"""Step 1 without a readable card (Vitale 1, forgotten card): the identity is typed.

INSi is then asked by these traits (step 2), and the DMP is created with INSi's traits. The
NIR is optional (when typed, its key is checked, the sex must agree with it, and it is
compared with the INS INSi returns); a lunar birth date is typed as written (00/00/1955); the
birthplace is optional and splits homonyms: a town or a country typed by name, completed as it
is typed (:mod:`proclient.widgets.birthplace`), read into its INSEE code at the birth date.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static

from proclient.core.i18n import N_, _
from proclient.messages import IdentityTyped
from proclient.screens.base import StepScreen
from proclient.widgets.birthplace import BirthplaceInput, BirthplaceLine
from proclient.widgets.fields import field_input

FIELDS = ("last_name", "first_name", "sex", "birth", "birthplace", "nir")


class ManualEntryScreen(StepScreen):
    step_number = 1
    HELP_TEXT = N_(
        "Saisissez l'identité d'après une pièce d'identité : nom de naissance, prénom, sexe "
        "(F ou M), date de naissance (00 pour un jour ou un mois inconnu), et si vous les avez "
        "le lieu de naissance (la commune, ou le pays pour une naissance à l'étranger ; → "
        "complète le nom proposé) et le NIR avec sa clé. L'INSi est ensuite interrogé par ces "
        "traits."
    )

    DEFAULT_CSS = """
    ManualEntryScreen .field { height: 1; }
    ManualEntryScreen .field Static { width: 19; }
    ManualEntryScreen .field Input { width: 1fr; max-width: 50; }
    """

    def compose_body(self) -> ComposeResult:
        yield Static(
            _(
                "Saisie manuelle de l'identité (d'après la carte Vitale ou une pièce "
                "d'identité du patient)."
            )
        )
        # A visible label beside each field (a placeholder vanishes once the field is filled);
        # the placeholder only says the expected form.
        for name, label, hint in (
            ("last_name", _("Nom de naissance"), ""),
            ("first_name", _("Prénom"), ""),
            ("sex", _("Sexe"), _("F ou M")),
            ("birth", _("Né(e) le"), _("JJ/MM/AAAA (00 si inconnu)")),
            ("birthplace", _("Lieu de naissance"), _("commune ou pays, facultatif, ex. Toulouse")),
            ("nir", _("NIR avec sa clé"), _("facultatif, 15 caractères")),
        ):
            with Horizontal(classes="field"):
                yield Static(label)
                if name == "birthplace":
                    yield BirthplaceInput(placeholder=hint, compact=True, id=name)
                else:
                    yield field_input(name, label, placeholder=hint, compact=True)
            if name == "birthplace":
                yield BirthplaceLine(id="birthplace-line")
        yield Static(
            _("Tab passe au champ suivant ; Entrée ou F8 pour continuer, Échap pour annuler."),
            classes="hint",
        )

    def on_mount(self) -> None:
        held = self.flow.held
        if held is not None:  # back from step 2: what was typed is kept
            self.query_one("#last_name", Input).value = held.last_name
            self.query_one("#first_name", Input).value = held.first_name
            self.query_one("#sex", Input).value = held.sex.value if held.sex else ""
            self.query_one("#birth", Input).value = held.birth_date.display
            self.query_one("#birthplace", Input).value = held.birthplace or ""
            self.query_one("#nir", Input).value = held.nir or ""
        self.query_one("#last_name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        index = FIELDS.index(event.input.id or "nir")
        optional = event.input.id in ("birthplace", "nir")
        if index < len(FIELDS) - 1 and not event.value.strip() and not optional:
            return
        if index < len(FIELDS) - 1:
            self.query_one(f"#{FIELDS[index + 1]}", Input).focus()
            return
        self.action_next()

    def go_on(self) -> None:
        values = {name: self.query_one(f"#{name}", Input).value for name in FIELDS}
        self.post_message(
            IdentityTyped(
                values["last_name"],
                values["first_name"],
                values["birth"],
                values["nir"],
                sex=values["sex"],
                birthplace=values["birthplace"],
            )
        )
