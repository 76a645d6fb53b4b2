"""The service's wire format (JSON), as pydantic models: they validate requests and write
the OpenAPI document. Consent flags are strict booleans: consent is never inferred."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from proclient.core.domain import EMAIL_MAX, MOBILE_MAX, NAME_MAX


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL: refuse it here (422), not in the database (500).
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("NUL character")
        return value


BirthDateText = Annotated[
    str,
    Field(pattern=r"^[0-9]{8}$", description="AAAAMMJJ (date lunaire admise : 19550000)"),
]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]


class InsIn(_Strict):
    value: str = Field(min_length=13, max_length=32, description="NIR (15 caractères)")
    oid: str = Field(min_length=3, max_length=64, description="OID de l'INS")


class PatientIn(_Strict):
    ins: InsIn
    last_name: str = Field(min_length=1, max_length=NAME_MAX)
    first_name: str = Field(default="", max_length=NAME_MAX)
    birth_date: str = Field(
        pattern=r"^[0-9]{8}$", description="AAAAMMJJ tel que lu sur la carte (date lunaire admise)"
    )
    sex: Literal["M", "F"] | None = None


class ConsentIn(_Strict):
    creation: StrictBool = Field(description="CONSENTEMENT_OUVERTURE_DMP")
    samu_access: StrictBool = Field(description="accès du médecin régulateur (centre 15)")
    break_glass_access: StrictBool = Field(description="accès en mode bris de glace")


class LegalRepresentativeIn(_Strict):
    relationship: str = Field(min_length=1, max_length=10)
    last_name: str = Field(min_length=1, max_length=NAME_MAX)
    first_name: str = Field(min_length=1, max_length=NAME_MAX)


class WebAccessIn(_Strict):
    email: str | None = Field(default=None, max_length=EMAIL_MAX)
    mobile: str | None = Field(default=None, max_length=MOBILE_MAX)


class IdentityIn(_Strict):
    """Identity vigilance (RNIV): the status follows the document seen, « qualifiée » with
    one, « récupérée » without (``none``); birth certificate and livret de famille for a
    minor only. Absent or null: « récupérée », no document."""

    status: Literal["qualifiee", "recuperee"]
    document: Literal[
        "passport", "id_card", "residence_permit", "birth_certificate", "family_book", "none"
    ] = Field(description="la pièce d'identité vue (jamais son numéro)")


# base64 of at most 8 KiB (a consent record) and 1 KiB (an RSA signature, up to 8192 bits).
RECORD_MAX_BYTES = 8 * 1024
SIGNATURE_MAX_BYTES = 1024
CERTIFICATE_MAX_CHARS = 8 * 1024


def _base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


class CaptureIn(_Strict):
    """A creation captured offline (proclient.core.capture): the consent record's bytes as the
    professional's credential signed them at the patient's, the signature, and the signer's
    certificate. The service checks the signature, who signed, when, and that the record is
    this request's (identity held, document seen, consent, representative)."""

    record: str = Field(
        min_length=1,
        max_length=_base64_length(RECORD_MAX_BYTES),
        description="base64 des octets de l'enregistrement du consentement (JSON canonique)",
    )
    signature: str = Field(
        min_length=1,
        max_length=_base64_length(SIGNATURE_MAX_BYTES),
        description="base64 de la signature RSA PKCS#1 v1.5 SHA-256 de l'enregistrement",
    )
    certificate: str = Field(
        min_length=1,
        max_length=CERTIFICATE_MAX_CHARS,
        description="certificat PEM du professionnel qui a signé (celui de la session)",
    )


class CreationIn(_Strict):
    """The patient is INSi's: INS and traits as a recent INSi answer to this professional
    gave them (``/v1/insi/*``): last_name the birth name, first_name the given names joined
    by one space, birth date and sex INSi's."""

    identity: IdentityIn | None = None
    patient: PatientIn
    consent: ConsentIn
    legal_representative: LegalRepresentativeIn | None = None
    web_access: WebAccessIn | None = None
    capture: CaptureIn | None = Field(
        default=None,
        description="création enregistrée hors connexion : le consentement signé au moment "
        "où il a été recueilli (jamais avec web_access)",
    )


class StatusIn(_Strict):
    ins: InsIn


class WebAccessRequestIn(_Strict):
    ins: InsIn
    email: str | None = Field(default=None, max_length=EMAIL_MAX)
    mobile: str | None = Field(default=None, max_length=MOBILE_MAX)


class WebAccessReissueIn(_Strict):
    ins: InsIn


class InsiCardIn(_Strict):
    """INSi look-up by the Carte Vitale: the beneficiary as read from the card."""

    last_name: Name
    first_name: str = Field(default="", max_length=NAME_MAX)
    birth_date: BirthDateText
    nir: str = Field(min_length=13, max_length=32, description="NIR lu sur la carte (15 car.)")
    rank: StrictInt = Field(default=1, ge=1, le=20, description="rang du bénéficiaire")


class InsiTraitsIn(_Strict):
    """INSi look-up by traits."""

    birth_name: Name
    first_given_name: Name
    sex: Literal["M", "F"]
    birth_date: BirthDateText
    birthplace: str | None = Field(
        default=None,
        max_length=16,
        description="code INSEE du lieu de naissance, 5 caractères : "
        "([0-9]{2}|2A|2B)[0-9]{3} (99 et le code du pays pour l'étranger)",
    )


class InsiVerificationIn(_Strict):
    """INSi verification: an INS and the traits held with it."""

    ins: InsIn
    birth_name: Name
    given_names: list[Name] = Field(min_length=1, max_length=10)
    sex: Literal["M", "F"]
    birth_date: BirthDateText


class SessionIn(_Strict):
    challenge_id: str = Field(min_length=1, max_length=NAME_MAX)
    certificate: str = Field(min_length=1, max_length=20000, description="certificat PEM")
    signature: str = Field(
        min_length=1, max_length=2000, description="base64 de la signature RSA PKCS#1 v1.5 SHA-256"
    )


# --- answers ---------------------------------------------------------------------------------


class HealthOut(BaseModel):
    status: Literal["ok"]
    mode: Literal["test", "production"]


class ReadyOut(BaseModel):
    status: Literal["ready", "not_ready"]


class ChallengeOut(BaseModel):
    challenge_id: str
    nonce: str
    expires_at: str


class ProfessionalOut(BaseModel):
    id_nat: str
    last_name: str
    first_name: str
    profession_code: str
    structure: str


class SessionOut(BaseModel):
    token: str
    expires_at: str
    professional: ProfessionalOut


class StatusOut(BaseModel):
    status: Literal["not_found", "active", "closed"]
    web_access: bool
    authorization: Literal["VALIDE", "EXPIRE", "INTERDIT", "NON_EXISTE"]


class WebCredentialsOut(BaseModel):
    login: str
    initial_password: str | None = Field(
        description="remis une seule fois ; null quand la réponse est rejouée"
    )
    already_issued: bool


STATEMENT_DESCRIPTION = (
    "déclaration signée par le service (COSE_Sign1 ES256, zlib, base45, préfixe DMP1:) : le "
    "texte du code 2D de l'accusé ; null quand le service n'a pas de clé de signature"
)


class CreationOut(BaseModel):
    dmp_id: str
    action: Literal["creation", "reactivation"]
    created_at: str
    web_access: WebCredentialsOut | None
    statement: str | None = Field(default=None, description=STATEMENT_DESCRIPTION)


class WebReissueOut(WebCredentialsOut):
    statement: str | None = Field(default=None, description=STATEMENT_DESCRIPTION)


class InsOut(BaseModel):
    value: str
    oid: str


class InsiTraitsOut(BaseModel):
    """INSi's reference traits: upper case, no diacritics."""

    birth_name: str
    given_names: list[str]
    sex: Literal["M", "F"]
    birth_date: str
    birthplace: str | None


class InsiIdentityOut(BaseModel):
    ins: InsOut = Field(description="INS actif (INS-NIR ou INS-NIA) et son OID")
    history: list[InsOut] = Field(description="anciens matricules, du plus récent au plus ancien")
    traits: InsiTraitsOut


class InsiAnswerOut(BaseModel):
    code: Literal["00", "01", "02"] = Field(
        description="00 une identité, 01 aucune, 02 plusieurs (préciser les traits)"
    )
    identity: InsiIdentityOut | None = Field(description="avec le code 00 seulement")


class InsiVerificationOut(BaseModel):
    valid: bool


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
