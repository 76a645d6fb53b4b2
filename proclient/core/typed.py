"""What the professional types, read under the rules the service applies too: a birth date
JJ/MM/AAAA (lunar dates kept as written), a sex F or M, a whole identity from a document
(Vitale 1, forgotten card) or the traits INSi is to be asked by."""

from __future__ import annotations

from datetime import date

from proclient.core.domain import (
    BirthDate,
    DomainError,
    IdentitySource,
    Sex,
    normalize_name,
    sex_from_nir,
    validate_nir,
)
from proclient.core.i18n import _
from proclient.core.identity import HeldIdentity
from proclient.core.places import resolve_birthplace


def _typed_name(value: str) -> str:
    # The rule the service applies too (domain.normalize_name), with its sentence.
    try:
        return normalize_name(value)
    except DomainError as error:
        raise DomainError("TYPED_NAME", error.message) from None


def typed_birth_date(birth: str, today: date) -> BirthDate:
    """A birth date typed JJ/MM/AAAA (lunar dates such as 00/00/1955 accepted as written)."""
    parts = birth.strip().split("/")
    if (
        len(parts) != 3
        or [len(p) for p in parts] != [2, 2, 4]
        or not all(p.isascii() and p.isdigit() for p in parts)
    ):
        raise DomainError(
            "TYPED_BIRTH",
            _(
                "Saisissez la date de naissance sous la forme JJ/MM/AAAA (00 pour un jour ou un mois "
                "inconnu)."
            ),
        )
    birth_date = BirthDate(parts[2] + parts[1] + parts[0])
    year = birth_date.year or 0
    exact = birth_date.as_date
    if year < 1880 or year > today.year or (exact is not None and exact > today):
        raise DomainError(
            "TYPED_BIRTH",
            _("La date de naissance est impossible : vérifiez-la sur une pièce d'identité."),
        )
    return birth_date


def typed_sex(value: str) -> Sex | None:
    """F or M as typed (féminin/masculin in full too); None when left empty; SEX otherwise."""
    text = value.strip().upper()
    if not text:
        return None
    if text in ("F", "FÉMININ", "FEMININ"):
        return Sex.FEMALE
    if text in ("M", "MASCULIN"):
        return Sex.MALE
    raise DomainError("SEX", _("Le sexe s'écrit F (féminin) ou M (masculin)."))


def typed_identity(
    last_name: str,
    first_name: str,
    birth: str,
    nir: str,
    today: date,
    sex: str = "",
    birthplace: str = "",
) -> HeldIdentity:
    """The identity typed from a document (Vitale 1, forgotten card): birth name, first
    name(s), birth date JJ/MM/AAAA, sex F/M, optionally the birthplace (a town or a country by
    name, or its INSEE code: kept as the code of the commune at the birth date) and the NIR
    with its key. With a NIR, the sex is the NIR's (a typed sex must agree). INSi is then
    asked by the traits; the NIR, when given, is compared with the INS INSi returns."""
    last = _typed_name(last_name).upper()
    first = _typed_name(first_name)
    birth_date = typed_birth_date(birth, today)
    typed = typed_sex(sex)
    value = None
    if nir.strip():
        value = validate_nir(nir)
        if value[1:3] != birth.strip()[-2:]:
            raise DomainError(
                "TYPED_NIR_YEAR",
                _("Le NIR ne correspond pas à l'année de naissance : vérifiez l'un et l'autre."),
            )
        from_nir = sex_from_nir(value)
        if typed is not None and from_nir is not None and typed is not from_nir:
            raise DomainError(
                "TYPED_SEX_NIR", _("Le sexe saisi ne correspond pas au NIR : vérifiez-les.")
            )
        typed = typed or from_nir
    if typed is None:
        raise DomainError("SEX", _("Le sexe s'écrit F (féminin) ou M (masculin)."))
    return HeldIdentity(
        last_name=last,
        first_name=first,
        birth_date=birth_date,
        sex=typed,
        nir=value,
        source=IdentitySource.TYPED,
        birthplace=resolve_birthplace(birthplace, birth_date),
    )
