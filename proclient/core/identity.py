"""Identity vigilance (../shared/DOMAIN.md §5): the INS retrieved from INSi and checked against
the person before a DMP is referenced by it.

The nouns: what the workstation holds of the person (:class:`HeldIdentity`, read from the card
or typed), the two INSi look-ups (:class:`CardQuery`, :class:`TraitsQuery`), INSi's answer
(:class:`InsiAnswer`: code 00 with one :class:`InsiIdentity`, 01 none, 02 several), the
high-trust document the professional saw (:class:`Document`) and the RNIV status it gives
(:class:`IdentityStatus`). The rules: :func:`insi_form` (INSi writes traits in upper case
without diacritics), :func:`differences` (every way the held identity departs from INSi's
reference traits, in words), :func:`identity_status` (qualifiée only with a document; the
minors' documents only for a minor).

Core: no I/O, nothing heavy. The client and the service both apply these rules.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from proclient.core.domain import (
    BirthDate,
    DomainError,
    IdentitySource,
    Ins,
    Patient,
    Sex,
    compact_nir,
    is_minor,
    refusal,
)
from proclient.core.i18n import _
from proclient.core.places import resolve_birthplace

# --- INSi's way of writing traits --------------------------------------------------------------

# Letters that NFKD does not split into a base letter and a combining mark.
_LIGATURES = str.maketrans(
    {
        "Œ": "OE",
        "œ": "OE",
        "Æ": "AE",
        "æ": "AE",
        "ß": "SS",
        "ẞ": "SS",
        "Ø": "O",
        "ø": "O",
        "Đ": "D",
        "đ": "D",
        "Ł": "L",
        "ł": "L",
        "\u2019": "'",
    }
)


def insi_form(text: str) -> str:
    """``text`` as INSi writes traits: upper case, no diacritics (``Saïd`` → ``SAID``,
    ``Œillet`` → ``OEILLET``), hyphens and apostrophes kept, one space between words."""
    plain = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    letters = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(letters.upper().split())


def trait_key(text: str) -> str:
    """What two spellings of a name must share to be the same name: :func:`insi_form` with
    hyphens and apostrophes read as spaces (``CASANOVA-ORSINI`` = ``Casanova Orsini``,
    ``D'ALMEIDA`` = ``D Almeida``)."""
    return " ".join(re.sub(r"[-']", " ", insi_form(text)).split())


# --- What the workstation holds, what it asks ---------------------------------------------------


@dataclass(frozen=True)
class HeldIdentity:
    """The person as the workstation knows them before INSi: read from a Carte Vitale (names
    as printed there, which may be the used name; the beneficiary's own NIR when the card has
    it) or typed from a document. ``rank``: the beneficiary's position on the card (1-based)."""

    last_name: str
    first_name: str
    birth_date: BirthDate
    sex: Sex | None = None
    nir: str | None = None
    source: IdentitySource = IdentitySource.CARD
    rank: int | None = None
    birthplace: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()

    @property
    def by_card(self) -> bool:
        """INSi is asked by the card when the card carries the beneficiary's own NIR; by the
        traits otherwise (no NIR of their own, or an identity typed by hand)."""
        return self.source is IdentitySource.CARD and bool(self.nir)


@dataclass(frozen=True)
class CardQuery:
    """INSi look-up by the card: the beneficiary as read (names, birth date as on the card,
    the card's NIR for them, their rank on the card)."""

    last_name: str
    first_name: str
    birth_date: BirthDate
    nir: str
    rank: int = 1


BIRTHPLACE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")


def normalize_birthplace(value: str | None) -> str | None:
    """An INSEE place code (5 characters: département + commune, 2A/2B for Corsica, 99 +
    country for abroad), upper case; None when empty; BIRTHPLACE when malformed. The codes
    the service receives; what a person types (a town, a country) is read by
    :func:`proclient.core.places.resolve_birthplace`."""
    text = (value or "").strip().upper()
    if not text:
        return None
    if not BIRTHPLACE.fullmatch(text):
        raise refusal("BIRTHPLACE")
    return text


@dataclass(frozen=True)
class TraitsQuery:
    """INSi look-up by traits: birth name, first given name, sex, birth date (AAAAMMJJ, lunar
    dates as written), optionally the birthplace's INSEE code (which splits homonyms)."""

    birth_name: str
    first_given_name: str
    sex: Sex
    birth_date: BirthDate
    birthplace: str | None = None


def traits_query(
    birth_name: str, first_given_name: str, sex: Sex | None, birth_date: BirthDate, birthplace=None
) -> TraitsQuery:
    """A traits look-up from what the professional typed or the card gave; refused with
    TRAITS_INCOMPLETE when a required trait is missing (sex above all: a card without the
    beneficiary's NIR does not carry it). The birthplace is a code or a town or country by
    name, read as at the birth date (BIRTHPLACE when unknown or ambiguous)."""
    from proclient.core.domain import normalize_name

    if sex is None or not birth_name.strip() or not first_given_name.strip():
        raise refusal("TRAITS_INCOMPLETE")
    if not birth_date.year or len(birth_date.raw) != 8:
        raise refusal("TRAITS_INCOMPLETE")
    first = normalize_name(first_given_name).split(" ")[0]
    return TraitsQuery(
        insi_form(normalize_name(birth_name)),
        insi_form(first),
        sex,
        birth_date,
        resolve_birthplace(birthplace or "", birth_date),
    )


def insi_query_for(held: HeldIdentity) -> CardQuery | TraitsQuery:
    """The look-up to make for ``held``: by the card when it carries the beneficiary's own
    NIR, by the traits otherwise (TRAITS_INCOMPLETE when the sex is unknown: a card without
    the beneficiary's NIR does not carry it)."""
    if held.by_card:
        assert held.nir is not None
        return CardQuery(held.last_name, held.first_name, held.birth_date, held.nir, held.rank or 1)
    return traits_query(held.last_name, held.first_name, held.sex, held.birth_date, held.birthplace)


# --- INSi's answer ----------------------------------------------------------------------------


class InsiCode(enum.StrEnum):
    """The teleservice's answer codes (CR)."""

    FOUND = "00"  # one identity
    NONE = "01"  # "Aucune identité trouvée"
    SEVERAL = "02"  # "Plusieurs identités trouvées": refine the traits


@dataclass(frozen=True)
class InsiTraits:
    """INSi's reference traits (TIQ): upper case, no diacritics."""

    birth_name: str
    given_names: tuple[str, ...]
    sex: Sex
    birth_date: BirthDate
    birthplace: str | None = None

    @property
    def first_given_name(self) -> str:
        return self.given_names[0] if self.given_names else ""

    @property
    def given_names_text(self) -> str:
        return " ".join(self.given_names)


@dataclass(frozen=True)
class InsiIdentity:
    """One identity found: the active INS (NIR or NIA with its OID), the earlier matricules
    (most recent first), the reference traits."""

    ins: Ins
    traits: InsiTraits
    history: tuple[Ins, ...] = ()

    def known_as(self, nir: str) -> bool:
        """``nir`` is this person's active INS or one of their earlier matricules."""
        value = compact_nir(nir)
        return value == self.ins.value or any(value == old.value for old in self.history)


@dataclass(frozen=True)
class InsiAnswer:
    code: InsiCode
    identity: InsiIdentity | None = None  # with 00 only
    by_card: bool = True  # which look-up gave it

    def __post_init__(self) -> None:
        if (self.code is InsiCode.FOUND) != (self.identity is not None):
            raise ValueError("an identity comes with code 00 and only with it")


def insi_refusal(answer: InsiAnswer) -> DomainError | None:
    """What a 01 or 02 answer means for the professional (None for 00)."""
    if answer.code is InsiCode.NONE:
        return refusal("INSI_NONE_CARD" if answer.by_card else "INSI_NONE")
    if answer.code is InsiCode.SEVERAL:
        return refusal("INSI_SEVERAL")
    return None


# --- Comparing the held identity with INSi's traits -------------------------------------------


class Difference(enum.StrEnum):
    """A way the identity held (card or typed) departs from INSi's reference traits."""

    BIRTH_NAME = "birth_name"
    GIVEN_NAMES_ORDER = "given_names_order"
    GIVEN_NAME_MISSING = "given_name_missing"
    GIVEN_NAME = "given_name"
    BIRTH_DATE = "birth_date"
    SEX = "sex"
    INS_CHANGED = "ins_changed"
    NIR_OTHER = "nir_other"
    NO_OWN_NIR = "no_own_nir"

    @property
    def label(self) -> str:
        return {
            "birth_name": _(
                "Le nom de naissance de l'INSi diffère du nom de la carte (nom d'usage ?)."
            ),
            "given_names_order": _("Les prénoms sont dans un autre ordre que sur la carte."),
            "given_name_missing": _("L'INSi connaît des prénoms que la carte ne porte pas."),
            "given_name": _("Le prénom diffère de celui de la carte."),
            "birth_date": _("La date de naissance diffère de celle de la carte."),
            "sex": _("Le sexe diffère."),
            "ins_changed": _(
                "Le numéro de la carte est un ancien matricule : l'INSi donne l'INS actif."
            ),
            "nir_other": _("Le NIR saisi ou lu n'est pas l'INS de cette personne."),
            "no_own_nir": _("La carte ne porte pas le NIR de ce bénéficiaire."),
        }[self.value]


def _given_names_difference(held: str, insi: tuple[str, ...]) -> Difference | None:
    held_names = trait_key(held).split()
    insi_key = trait_key(" ".join(insi))
    if not held_names or " ".join(held_names) == insi_key:
        return None
    insi_names = insi_key.split()
    if sorted(held_names) == sorted(insi_names):
        return Difference.GIVEN_NAMES_ORDER
    if all(name in insi_names for name in held_names):
        return Difference.GIVEN_NAME_MISSING
    return Difference.GIVEN_NAME


def differences(held: HeldIdentity, identity: InsiIdentity) -> tuple[Difference, ...]:
    """Every difference between what the workstation holds and INSi's reference traits, in
    the order they are shown. Case, accents, and a hyphen or apostrophe written as a space
    are no difference (INSi drops diacritics); anything else is, and the professional sees it
    before choosing the document."""
    traits = identity.traits
    found: list[Difference] = []
    if trait_key(held.last_name) != trait_key(traits.birth_name):
        found.append(Difference.BIRTH_NAME)
    given = _given_names_difference(held.first_name, traits.given_names)
    if given is not None:
        found.append(given)
    if held.birth_date.raw != traits.birth_date.raw:
        found.append(Difference.BIRTH_DATE)
    if held.sex is not None and held.sex is not traits.sex:
        found.append(Difference.SEX)
    if held.nir:
        nir = compact_nir(held.nir)
        if nir != identity.ins.value:
            found.append(Difference.INS_CHANGED if identity.known_as(nir) else Difference.NIR_OTHER)
    elif held.source is IdentitySource.CARD:
        found.append(Difference.NO_OWN_NIR)
    return tuple(found)


# --- The document seen and the identity status (RNIV) -------------------------------------------


class Document(enum.StrEnum):
    """The high-trust document the professional saw (never its number)."""

    PASSPORT = "passport"
    ID_CARD = "id_card"
    RESIDENCE_PERMIT = "residence_permit"
    BIRTH_CERTIFICATE = "birth_certificate"  # a minor's, with a parent's high-trust document
    FAMILY_BOOK = "family_book"  # livret de famille, with a parent's high-trust document
    NONE = "none"

    @property
    def label(self) -> str:
        return {
            "passport": _("Passeport"),
            "id_card": _("Carte nationale d'identité"),
            "residence_permit": _("Titre de séjour permanent"),
            "birth_certificate": _("Acte de naissance, avec la pièce d'identité du parent"),
            "family_book": _("Livret de famille, avec la pièce d'identité du parent"),
            "none": _("Aucune pièce d'identité vue"),
        }[self.value]

    @property
    def minors_only(self) -> bool:
        return self in (Document.BIRTH_CERTIFICATE, Document.FAMILY_BOOK)


def documents_for(minor: bool) -> tuple[Document, ...]:
    """The choices offered, in order: a minor may also be identified by a birth certificate
    or the livret de famille with a parent's document."""
    return tuple(d for d in Document if minor or not d.minors_only)


class IdentityStatus(enum.StrEnum):
    """RNIV identity statuses."""

    PROVISIONAL = "provisoire"  # neither INSi nor document
    RETRIEVED = "recuperee"  # INS from INSi, no document
    VALIDATED = "validee"  # document, no INS
    QUALIFIED = "qualifiee"  # both

    @property
    def label(self) -> str:
        return {
            "provisoire": _("provisoire"),
            "recuperee": _("récupérée"),
            "validee": _("validée"),
            "qualifiee": _("qualifiée"),
        }[self.value]


def identity_status(document: Document, birth_date: BirthDate, today: date, majority: int = 18):
    """The RNIV status of an identity whose INS came from INSi: *qualifiée* when a high-trust
    document was seen, *récupérée* without. A birth certificate or a livret de famille
    identifies a minor only (DOCUMENT_MINORS_ONLY otherwise)."""
    if document is Document.NONE:
        return IdentityStatus.RETRIEVED
    if document.minors_only and not is_minor(birth_date, today, majority):
        raise refusal("DOCUMENT_MINORS_ONLY")
    return IdentityStatus.QUALIFIED


@dataclass(frozen=True)
class IdentityCheck:
    """The outcome of identity vigilance for one patient: INSi's identity, the differences
    shown, the document seen (None until chosen) and the status it gives."""

    identity: InsiIdentity
    held: HeldIdentity
    differences: tuple[Difference, ...]
    document: Document | None = None
    status: IdentityStatus | None = None

    @property
    def patient(self) -> Patient:
        """The patient the DMP is created for: INSi's INS and INSi's traits, never the
        card's spelling."""
        traits = self.identity.traits
        return Patient(
            ins=self.identity.ins,
            last_name=traits.birth_name,
            first_name=traits.given_names_text,
            birth_date=traits.birth_date,
            sex=traits.sex,
            source=IdentitySource.INSI,
        )
