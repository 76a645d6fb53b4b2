"""The place of birth typed as a town or a country (DOMAIN.md §8), never as a code nobody knows.

:class:`BirthplaceInput` is an Input that completes the name as it is typed (accents, case,
hyphens and « St » optional; → takes the completion), ranked for the birth date typed in the
field it is told (``born_from``): a commune merged since is still found under its name of
then. :class:`BirthplaceLine`, under it, says what the text stands for at that date —
« Toulouse (31) — code 31555 », a few suggestions while a name is being typed, or the French
sentence that refuses it. What the screen posts is the text as typed: the core reads it into
the code where the birth date is known (typed.typed_identity, identity.traits_query).
"""

from __future__ import annotations

from datetime import date

from textual.suggester import Suggester
from textual.widgets import Input, Static

from proclient.core import places
from proclient.core.domain import BirthDate, DomainError
from proclient.core.i18n import _
from proclient.core.typed import typed_birth_date


def birth_date_of(text: str) -> BirthDate | None:
    """The birth date typed JJ/MM/AAAA (lunar dates as written), None while it is not one."""
    try:
        return typed_birth_date(text, date.today())
    except DomainError:
        return None


class PlaceSuggester(Suggester):
    """Completes a place name with the first of :func:`proclient.core.places.search`'s
    suggestions (its label, « Saint-Étienne (42) »), when what is typed reads as its
    beginning: Input draws the rest after the text and → replaces the text by the label."""

    def __init__(self, born) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._born = born  # () -> BirthDate | None, read at each keystroke

    async def get_suggestion(self, value: str) -> str | None:
        if not places.key(value) or places.CODE.fullmatch(value.strip().upper()):
            return None
        found = places.search(value, self._born(), limit=1)
        if not found:
            return None
        label = found[0].label
        # Only a completion that continues what is typed reads right drawn after it.
        return label if places.key(label[: len(value)]) == places.key(value) else None


class BirthplaceInput(Input):
    """The birthplace field: an Input (the screens read ``.value``) with completion and the
    line :class:`BirthplaceLine` ``line`` kept up to date; ``born_from`` is the id of the
    birth date's field on the same screen."""

    def __init__(self, *, born_from: str = "birth", line: str = "birthplace-line", **kwargs):
        self._born_from = born_from
        self._line = line
        kwargs.setdefault("max_length", 100)  # the longest place names are under 50
        super().__init__(suggester=PlaceSuggester(self.born), **kwargs)

    def born(self) -> BirthDate | None:
        fields = self.screen.query(f"#{self._born_from}")
        return birth_date_of(fields.first(Input).value) if fields else None

    def on_mount(self) -> None:
        fields = self.screen.query(f"#{self._born_from}")
        if fields:
            self.watch(fields.first(Input), "value", lambda _value: self.refresh_line())
        self.refresh_line()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self:
            self.refresh_line()  # and on up to the screen, as any Input's

    def refresh_line(self) -> None:
        lines = self.screen.query(f"#{self._line}")
        if lines:
            lines.first(BirthplaceLine).show(self.value, self.born())


class BirthplaceLine(Static):
    """What the birthplace typed stands for at the birth date, in one line under the field."""

    DEFAULT_CSS = """
    BirthplaceLine { height: auto; margin-left: 19; color: $text-muted; }
    """

    def show(self, text: str, born: BirthDate | None) -> None:
        self.update(describe(text, born))


def describe(text: str, born: BirthDate | None) -> str:
    """The line: empty for no text; the place and its code; while a name is incomplete, the
    first suggestions; otherwise the refusal."""
    if not text.strip():
        return ""
    try:
        resolution = places.resolve(text, born)
    except DomainError as error:
        typed = places.key(text)
        found = places.search(text, born, limit=3)
        if found and all(places.key(place.name) != typed for place in found):
            return _(
                "Suggestions : {places} (→ complète)",
                places=", ".join(place.label for place in found),
            )
        return error.message
    assert resolution is not None
    return resolution.describe()
