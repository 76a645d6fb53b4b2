"""Text fields that stop at the service's limit for what they hold, and say which field.

A name pasted 10,000 characters long used to be taken, then refused by the service as « La
demande est incomplète ou mal formée », naming no field. Here the field keeps nothing past
its limit (the service's own: proclient.core.domain) and the screen says which field and
how many characters it takes."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Input

from proclient.core.domain import EMAIL_MAX, MOBILE_MAX, NAME_MAX, NIR_TYPED_MAX

# Field id → the service's limit (characters).
LIMITS = {
    "last_name": NAME_MAX,
    "first_name": NAME_MAX,
    "birth_name": NAME_MAX,
    "rep_last": NAME_MAX,
    "rep_first": NAME_MAX,
    "email": EMAIL_MAX,
    "mobile": MOBILE_MAX,
    "nir": NIR_TYPED_MAX,
}


class LimitedInput(Input):
    """An Input holding at most ``LIMITS[id]`` characters; typing or pasting past it posts
    :class:`LimitedInput.LimitReached` with the field's label."""

    class LimitReached(Message):
        def __init__(self, label: str, limit: int) -> None:
            super().__init__()
            self.label, self.limit = label, limit

    def __init__(self, value: str | None = None, *, label: str, id: str, **options) -> None:
        super().__init__(value, max_length=LIMITS[id], id=id, **options)
        self.label = label

    def replace(self, text: str, start: int, end: int) -> None:
        """Typed or pasted: what fits is kept, the rest dropped and said."""
        room = self.max_length - (len(self.value) - (end - start))
        if len(text) > room:
            text = text[: max(room, 0)]
            self.post_message(self.LimitReached(self.label, self.max_length))
        super().replace(text, start, end)


def field_input(name: str, label: str, value: str | None = None, **options) -> Input:
    """The Input for field ``name``: limited when the service limits it."""
    if name in LIMITS:
        return LimitedInput(value, label=label, id=name, **options)
    return Input(value, id=name, **options)
