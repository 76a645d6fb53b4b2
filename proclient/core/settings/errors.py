"""One French sentence per mistake in the settings, naming ``table.key`` and where the value
came from."""

from __future__ import annotations

import dataclasses
import typing
from typing import TYPE_CHECKING, Literal

from proclient.core.i18n import _
from proclient.core.settings.model import KEY_IDS, TABLES, field_types, table_types

if TYPE_CHECKING:
    from pydantic import ValidationError

# --- one French sentence per mistake -------------------------------------------------------


def describe_error(error: ValidationError, source: object, table: str | None = None) -> str:
    """The first mistake of ``error`` (pydantic's) as one French sentence naming
    ``table.key`` and the ``source`` (the file, or where the values came from). ``table``:
    when ``error`` comes from one table's model rather than the whole file."""
    first = error.errors(include_url=False)[0]
    loc = tuple(str(part) for part in first["loc"])
    if table is not None:
        loc = (table, *loc)
    kind = first["type"]
    if loc[0] == "keys" and loc[-1] == "[key]":  # an id no Binding carries
        name = "keys." + loc[1]
        return _(
            "Réglage inconnu {name} dans {source} : les actions connues sont {ids}.",
            name=name,
            source=source,
            ids=", ".join(sorted(KEY_IDS)),
        )
    name = ".".join(loc)
    # A dataclass refuses an unknown key as an unexpected keyword argument.
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        if len(loc) == 1:
            return _(
                "Section inconnue [{name}] dans {source} : les sections connues sont {tables}.",
                name=name,
                source=source,
                tables=", ".join(f"[{t}]" for t in TABLES),
            )
        return _(
            "Réglage inconnu {name} dans {source} : corrigez son nom ou retirez-le.",
            name=name,
            source=source,
        )
    return _(
        "Réglage {name} dans {source} : valeur attendue {expected}.",
        name=name,
        source=source,
        expected=_expected(loc),
    )


def _expected(loc: tuple[str, ...]) -> str:
    """What the setting at ``loc`` accepts, in French."""
    if len(loc) == 1:
        if loc[0] == "keys":
            return _('une section [keys] (action = "touche")')
        return _("une section [{table}]", table=loc[0])
    if loc[0] == "keys":
        return _(
            "une touche ou plusieurs séparées par des virgules, entre guillemets "
            '(par exemple "f5,ctrl+p")'
        )
    table = table_types().get(loc[0])
    fields = {field.name: field for field in dataclasses.fields(table)} if table else {}
    if loc[1] not in fields:
        return _("une autre valeur")
    annotation = field_types(table)[loc[1]]
    if type(None) in typing.get_args(annotation):  # an optional setting: what it accepts when set
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is Literal:
        return _(" ou ").join(
            _("« {choice} »", choice=choice) for choice in typing.get_args(annotation)
        )
    if annotation is bool:
        return _("vrai ou faux (true ou false, sans guillemets)")
    if annotation is int:
        low = fields[loc[1]].metadata.get("ge")
        high = fields[loc[1]].metadata.get("le")
        if low is not None and high is not None:
            return _("un nombre entier entre {low} et {high}", low=low, high=high)
        return _("un nombre entier")
    if annotation is float:
        high = fields[loc[1]].metadata.get("le")
        if high is not None:
            return _("un nombre de secondes supérieur à 0, au plus {high}", high=high)
        return _("un nombre")
    if annotation is str or str in typing.get_args(annotation):
        return _("un texte entre guillemets")
    return _("une autre valeur")
