"""The trade's nouns and rules: patients, professionals, consent, online access.

No I/O and no Textual, pyscard, httpx or reportlab import here: every rule can be tested
without a card, a network or a terminal. Facts come from ../shared/DOMAIN.md.
"""

from __future__ import annotations

import calendar
import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from proclient.core.i18n import N_, _
from proclient.core.problems import problem_message

# INS OIDs (Interop-Sante FRCorePatientINSProfile).
OID_INS_NIR = "1.2.250.1.213.1.4.8"
OID_INS_NIA = "1.2.250.1.213.1.4.9"
OID_INS_NIR_TEST = "1.2.250.1.213.1.4.10"
OID_INS_NIR_DEMO = "1.2.250.1.213.1.4.11"

OID_LABELS = {
    OID_INS_NIR: "INS-NIR",
    OID_INS_NIA: "INS-NIA",
    OID_INS_NIR_TEST: "INS-NIR TEST",
    OID_INS_NIR_DEMO: "INS-NIR DÉMO",
}
# Test and demo cards map to the TEST and DEMO OIDs; real people to NIR and NIA (HOM 6).
TEST_INS_OIDS = frozenset({OID_INS_NIR_TEST, OID_INS_NIR_DEMO})
REAL_INS_OIDS = frozenset({OID_INS_NIR, OID_INS_NIA})

MAJORITY_AGE = 18


class DomainError(Exception):
    """An error the user can act on: a stable ``code`` and one French sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def refusal(code: str) -> DomainError:
    """The DomainError for ``code`` with its one sentence from :mod:`proclient.core.problems`, the
    same on the client and in the service's problem+json answers."""
    return DomainError(code, problem_message(code) or code)


# --- Text typed by people -------------------------------------------------------------------

# Control characters (C0, C1), format characters (bidi overrides and isolates, zero-width
# spaces and joiners, the BOM), line and paragraph separators, private use, surrogates and
# unassigned code points: nothing a person's name, an email or a phone number needs, and all
# able to hide text or move a terminal's cursor.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def has_hidden_characters(text: str) -> bool:
    """True when ``text`` holds a control or invisible character (see _HIDDEN_CATEGORIES)."""
    return any(unicodedata.category(ch) in _HIDDEN_CATEGORIES for ch in text)


# --- NIR and INS ----------------------------------------------------------------------------


def compact_nir(value: str) -> str:
    """The NIR without spaces, dots or dashes, upper-cased (Corsica 2A/2B)."""
    return "".join(ch for ch in value if ch not in " .-").upper()


def validate_nir(value: str) -> str:
    """Return the compact NIR, or raise DomainError when its length, digits or key are wrong.

    The NIA (numéro identifiant d'attente, INS-NIA) has the NIR's shape and key rule: this
    checks both. After compaction (spaces, dots, dashes dropped; upper case): 15 ASCII
    characters, all digits but the département 2A/2B of Corsica, and the key."""
    from stdnum import exceptions as stdnum_exceptions
    from stdnum.fr import nir as stdnum_nir

    nir = compact_nir(value)
    if len(nir) != 15 or not nir.isascii():
        raise refusal("NIR_FORMAT")
    try:
        return stdnum_nir.validate(nir)
    except stdnum_exceptions.InvalidChecksum:
        raise refusal("NIR_KEY") from None
    except stdnum_exceptions.ValidationError:
        raise refusal("NIR_FORMAT") from None


def format_nir(nir: str) -> str:
    """The NIR as printed on cards: ``1 52 03 35 238 045 87``."""
    n = compact_nir(nir)
    if len(n) != 15:
        return n
    return f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {n[13:15]}"


class Sex(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"

    @property
    def label(self) -> str:
        return _("Masculin") if self is Sex.MALE else _("Féminin")


def sex_from_nir(nir: str) -> Sex | None:
    """Sex is the NIR's first digit (1 male, 2 female; 3, 4, 7, 8 are temporary numbers)."""
    first = compact_nir(nir)[:1]
    if first in ("1", "3", "7"):
        return Sex.MALE
    if first in ("2", "4", "8"):
        return Sex.FEMALE
    return None


@dataclass(frozen=True)
class Ins:
    """Identifiant National de Santé: the person's own NIR qualified by an OID."""

    value: str
    oid: str

    @property
    def label(self) -> str:
        return OID_LABELS.get(self.oid, self.oid)


def validate_ins(value: str, oid: str) -> Ins:
    """The INS for a typed or received value and OID: a known INS OID (INS_OID_UNKNOWN
    otherwise) and a value with the NIR's shape and key, NIA included (NIR_FORMAT, NIR_KEY).
    Which OIDs a service accepts (test or real) is the service's mode, checked by it."""
    if oid not in TEST_INS_OIDS | REAL_INS_OIDS:
        raise refusal("INS_OID_UNKNOWN")
    return Ins(validate_nir(value), oid)


def person_key(ins: Ins) -> str:
    """One name for one person whichever INS OID names them: the 15 characters under the NIR
    and the NIA OIDs are one real person (``real:…``), under the TEST and DEMO OIDs one test
    person (``test:…``). Test and real people never share a key, even with the same digits.

    Across the INS history (a person whose INS changed, e.g. a NIA replaced by the NIR, as
    INSi reports it): the service's storage looks up every matricule the INSi register holds
    for the person (proclient/server/register.py ``person_keys``); this function names one.
    """
    realm = "test" if ins.oid in TEST_INS_OIDS else "real"
    return f"{realm}:{compact_nir(ins.value)}"


# --- Names (identity vigilance, RNIV) -------------------------------------------------------

# RNIV: a name holds letters (accented ones included), spaces, hyphens and apostrophes. Letters
# are Latin ones (names are written in the Latin alphabet in French identity documents and
# INSi traits); the typographic apostrophe (U+2019) is taken for the plain one.
NAME_PUNCTUATION = frozenset(" -'")
_APOSTROPHES = str.maketrans({"\u2019": "'"})


def _is_latin_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") and unicodedata.name(ch, "").startswith(
        "LATIN "
    )


# The service's limits for what is typed (server/schemas.py takes them from here; the
# workstation's fields stop there and say so: widgets/fields.py).
NAME_MAX = 100
EMAIL_MAX = 254
MOBILE_MAX = 32
NIR_TYPED_MAX = 32  # a NIR as typed, spaces included


def normalize_name(value: str, *, required: bool = True) -> str:
    """A person's name (birth or used name, given names) as the service and the client keep
    it: NFC, typographic apostrophes made plain, runs of spaces made one, no leading or
    trailing space. Refused with NAME_CHARSET: a character other than Latin letters, space,
    hyphen and apostrophe (digits, symbols, control and invisible characters such as ANSI
    escapes, CR/LF, tabs, bidi overrides, zero-width spaces, other scripts), no letter at all,
    or only spaces. An empty value is refused too unless not ``required`` (then "")."""
    if value == "" and not required:
        return ""
    text = unicodedata.normalize("NFC", value).translate(_APOSTROPHES)
    name = " ".join(part for part in text.split(" ") if part)
    if not any(_is_latin_letter(ch) for ch in name) or not all(
        ch in NAME_PUNCTUATION or _is_latin_letter(ch) for ch in name
    ):
        raise refusal("NAME_CHARSET")
    return name


# --- Birth dates, lunar ones included -------------------------------------------------------


@dataclass(frozen=True)
class BirthDate:
    """A birth date as the card carries it (AAAAMMJJ). Lunar dates (month or day 00 or out of
    range, people born abroad) are kept as read and shown as read, never corrected."""

    raw: str

    @property
    def year(self) -> int | None:
        return int(self.raw[:4]) if self.raw[:4].isdigit() else None

    @property
    def as_date(self) -> date | None:
        """The calendar date, or None for a lunar date."""
        if len(self.raw) != 8 or not self.raw.isdigit():
            return None
        try:
            return date(int(self.raw[:4]), int(self.raw[4:6]), int(self.raw[6:8]))
        except ValueError:
            return None

    @property
    def is_lunar(self) -> bool:
        return self.as_date is None

    @property
    def display(self) -> str:
        """DD/MM/YYYY, lunar parts included as read (``00/00/1955``)."""
        if len(self.raw) != 8:
            return self.raw
        return f"{self.raw[6:8]}/{self.raw[4:6]}/{self.raw[:4]}"

    def latest_possible(self) -> date | None:
        """The latest real date this value may stand for: unknown month → December, unknown
        day → the month's last day. Used so that a doubt about age errs towards 'minor'."""
        exact = self.as_date
        if exact is not None:
            return exact
        year = self.year
        if year is None or year < 1:
            return None
        month = int(self.raw[4:6]) if self.raw[4:6].isdigit() else 0
        month = month if 1 <= month <= 12 else 12
        last_day = calendar.monthrange(year, month)[1]
        day = int(self.raw[6:8]) if self.raw[6:8].isdigit() else 0
        day = day if 1 <= day <= last_day else last_day
        return date(year, month, day)

    @classmethod
    def from_iso(cls, value: date) -> BirthDate:
        return cls(value.strftime("%Y%m%d"))


def age_on(birth: BirthDate, today: date) -> int | None:
    """Age in whole years on ``today`` (youngest possible age for a lunar date)."""
    born = birth.latest_possible()
    if born is None:
        return None
    years = today.year - born.year
    if (today.month, today.day) < (born.month, born.day):
        years -= 1
    return years


def is_minor(birth: BirthDate, today: date, majority: int = MAJORITY_AGE) -> bool:
    """Under ``majority`` on ``today``. An unreadable year counts as minor: the legal
    representative is then asked for rather than silently skipped."""
    age = age_on(birth, today)
    return age is None or age < majority


# --- The card and the patient ----------------------------------------------------------------


class IdentitySource(enum.StrEnum):
    CARD = "card"
    TYPED = "typed"
    INSI = "insi"  # INSi's reference traits (proclient.core.identity)


@dataclass(frozen=True)
class Beneficiary:
    """One person on a Carte Vitale. ``nir`` is the beneficiary's own NIR when the card has it."""

    last_name: str
    first_name: str
    birth_date: BirthDate
    nir: str | None

    @property
    def display_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()


class CardType(enum.StrEnum):
    VITALE2 = "vitale2"
    VITALE1 = "vitale1"
    CPS = "cps"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class VitaleCard:
    """What was read from a Carte Vitale: its ATR and its beneficiaries, in card order."""

    atr: str
    beneficiaries: tuple[Beneficiary, ...]
    card_type: CardType = CardType.VITALE2


@dataclass(frozen=True)
class Patient:
    """The person whose DMP is created, with the INS the service knows them by."""

    ins: Ins
    last_name: str
    first_name: str
    birth_date: BirthDate
    sex: Sex | None
    source: IdentitySource = IdentitySource.CARD

    @property
    def display_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()

    def is_minor(self, today: date, majority: int = MAJORITY_AGE) -> bool:
        return is_minor(self.birth_date, today, majority)


# --- Legal representative ------------------------------------------------------------------


class Relationship(enum.StrEnum):
    """Relationship codes of a minor's legal representative (HL7 RoleCode subset)."""

    FTH = "FTH"
    MTH = "MTH"
    STPFTH = "STPFTH"
    STPMTH = "STPMTH"
    GRFTH = "GRFTH"
    GRMTH = "GRMTH"
    GGRFTH = "GGRFTH"
    GGRMTH = "GGRMTH"
    AUNT = "AUNT"
    UNCLE = "UNCLE"
    BRO = "BRO"
    SIS = "SIS"
    RESPRSN = "RESPRSN"

    @property
    def label(self) -> str:
        return {
            "FTH": _("Père"),
            "MTH": _("Mère"),
            "STPFTH": _("Beau-père"),
            "STPMTH": _("Belle-mère"),
            "GRFTH": _("Grand-père"),
            "GRMTH": _("Grand-mère"),
            "GGRFTH": _("Arrière-grand-père"),
            "GGRMTH": _("Arrière-grand-mère"),
            "AUNT": _("Tante"),
            "UNCLE": _("Oncle"),
            "BRO": _("Frère"),
            "SIS": _("Sœur"),
            "RESPRSN": _("Autre représentant légal"),
        }[self.value]


@dataclass(frozen=True)
class LegalRepresentative:
    relationship: Relationship
    last_name: str
    first_name: str

    @property
    def display(self) -> str:
        return f"{self.last_name} {self.first_name} ({self.relationship.label})"

    def fields(self) -> dict[str, str]:
        """As the service's JSON (and the offline consent record) carry it."""
        return {
            "relationship": self.relationship.value,
            "last_name": self.last_name,
            "first_name": self.first_name,
        }


def make_legal_representative(code: str, last_name: str, first_name: str) -> LegalRepresentative:
    """Validate and build a legal representative from what was typed."""
    try:
        relationship = Relationship(code)
    except ValueError:
        raise refusal("RELATIONSHIP") from None
    if not last_name.strip(" ") or not first_name.strip(" "):
        raise refusal("REPRESENTATIVE_NAME")
    last, first = normalize_name(last_name), normalize_name(first_name)
    return LegalRepresentative(relationship, last.upper(), first)


# --- Consent and online access ---------------------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """The patient's consent to the creation (mandatory, unchecked by default) and the two
    emergency accesses, authorised by default (HOM 99, 101): the SAMU regulating doctor
    (centre 15) and "bris de glace" (break-glass, any professional when life is at risk)."""

    creation: bool = False
    samu_access: bool = True
    break_glass_access: bool = True

    def fields(self) -> dict[str, bool]:
        """As the service's JSON (and the offline consent record) carry it."""
        return {
            "creation": self.creation,
            "samu_access": self.samu_access,
            "break_glass_access": self.break_glass_access,
        }

    @property
    def codes(self) -> tuple[str, ...]:
        """DMPi consent codes carried by a creation."""
        codes = ["CONSENTEMENT_OUVERTURE_DMP"] if self.creation else []
        if not self.samu_access:
            codes.append("OPPOSITION_ACCES_URGENCE")
        if not self.break_glass_access:
            codes.append("OPPOSITION_BRIS_DE_GLACE")
        return tuple(codes)


# RFC 5321 (4.5.3.1): a local part of at most 64 octets, a path of at most 256 octets with its
# angle brackets, so an address of at most 254.
EMAIL_LOCAL_MAX = 64
EMAIL_MAX = 254


def normalize_email(value: str) -> str:
    """A syntactically valid email address, normalised (the domain in lower case); refused
    with EMAIL otherwise: control or invisible characters, a local part over 64 octets or an
    address over 254 (UTF-8, the domain counted in its longer form, A-label or not)."""
    from email_validator import EmailNotValidError, validate_email

    text = value.strip(" ")
    if has_hidden_characters(text):
        raise refusal("EMAIL")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise refusal("EMAIL") from None
    local = len(checked.local_part.encode())
    domain = max(len(checked.domain.encode()), len(checked.ascii_domain or ""))
    if local > EMAIL_LOCAL_MAX or local + 1 + domain > EMAIL_MAX:
        raise refusal("EMAIL")
    return checked.normalized


# Mobiles: metropolitan France (+33) and the overseas départements, whose numbers have their
# own country codes: Guadeloupe +590 (Saint-Barthélemy and Saint-Martin share its plan),
# Martinique +596, Guyane +594, La Réunion and Mayotte +262. ../shared/DOMAIN.md says nothing
# of mobiles: this is the choice of issue 10 (the SMS that carries access codes goes to French
# numbers); phonenumbers' metadata says which numbers are mobiles. Other overseas collectivities
# (+508, +681, +687, +689) and foreign numbers are refused with MOBILE.
MOBILE_COUNTRY_CODES = frozenset({33, 262, 590, 594, 596})
# A number typed in national form (06…, 0690…) is read in the plan of these regions in turn:
# France first, then the overseas départements (RE covers Mayotte's 0639).
_MOBILE_REGIONS = ("FR", "GP", "MQ", "GF", "RE")
_MOBILE_CHARS = re.compile(r"[0-9 +().-]{1,32}")


def normalize_mobile(value: str) -> str:
    """A French mobile number (metropolitan France or an overseas département) in E.164
    (``+33612345678``, ``+590690123456``); MOBILE when it is not a number of those (foreign
    numbers included), MOBILE_NOT_MOBILE when it is a French landline or service number."""
    import phonenumbers

    text = value.strip(" ")
    if not _MOBILE_CHARS.fullmatch(text):
        raise refusal("MOBILE")
    try:
        number = phonenumbers.parse(text, "FR", keep_raw_input=True)
    except phonenumbers.NumberParseException:
        raise refusal("MOBILE") from None
    national = number.country_code_source == phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY
    if national and not phonenumbers.is_valid_number(number):
        for region in _MOBILE_REGIONS[1:]:
            candidate = phonenumbers.parse(text, region)
            if phonenumbers.is_valid_number(candidate):
                number = candidate
                break
    if number.country_code not in MOBILE_COUNTRY_CODES or not phonenumbers.is_valid_number(number):
        raise refusal("MOBILE")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise refusal("MOBILE_NOT_MOBILE")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class WebAccess:
    """Channels for the patient's web account: at least one of email and mobile (E.164)."""

    email: str | None = None
    mobile: str | None = None

    @classmethod
    def from_input(cls, email: str, mobile: str) -> WebAccess:
        email, mobile = email.strip(" "), mobile.strip(" ")
        if not email and not mobile:
            raise refusal("MISSING_CHANNEL")
        return cls(
            email=normalize_email(email) if email else None,
            mobile=normalize_mobile(mobile) if mobile else None,
        )


def mask_email(email: str) -> str:
    """``j***@exemple.fr``: enough for the patient to recognise, not to read aloud."""
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def format_mobile(mobile: str) -> str:
    """A mobile kept in E.164 as it is read back to the patient: ``06 12 34 56 78`` (France),
    ``+590 690 12 34 56`` (an overseas département)."""
    import phonenumbers

    try:
        number = phonenumbers.parse(mobile, None)
    except phonenumbers.NumberParseException:
        return mobile
    kind = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, kind)


def mask_mobile(mobile: str) -> str:
    """``+33 6 ** ** ** 78``; overseas: ``+590 690 ** ** 56``."""
    if mobile.startswith("+33"):
        digits = mobile.removeprefix("+33")
        return f"+33 {digits[:1]} ** ** ** {digits[-2:]}" if len(digits) >= 3 else "***"
    code = mobile[:4]
    digits = mobile[4:]
    if code[1:] in {str(c) for c in MOBILE_COUNTRY_CODES} and len(digits) >= 5:
        return f"{code} {digits[:3]} ** ** {digits[-2:]}"
    return "***"


# --- The professional and the service -------------------------------------------------------

PROFESSIONS = {"10": N_("Médecin"), "21": N_("Pharmacien"), "60": N_("Infirmier")}


@dataclass(frozen=True)
class Professional:
    """A health professional as their CPS (or demo credential) names them."""

    id_nat: str
    last_name: str
    first_name: str
    profession_code: str
    structure: str = ""

    @property
    def profession(self) -> str:
        return _(PROFESSIONS.get(self.profession_code, N_("Professionnel de santé")))

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class DmpStatus(enum.StrEnum):
    """TD0.2 outcome for a patient's DMP."""

    NOT_FOUND = "not_found"
    ACTIVE = "active"
    CLOSED = "closed"


class Authorization(enum.StrEnum):
    """TD0.2: the professional's authorisation on that DMP."""

    VALIDE = "VALIDE"
    EXPIRE = "EXPIRE"
    INTERDIT = "INTERDIT"
    NON_EXISTE = "NON_EXISTE"


@dataclass(frozen=True)
class DmpState:
    status: DmpStatus
    web_access: bool = False
    authorization: Authorization = Authorization.NON_EXISTE


class Action(enum.StrEnum):
    CREATION = "creation"
    REACTIVATION = "reactivation"
