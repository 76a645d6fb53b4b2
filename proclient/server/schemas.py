"""The service's wire format (JSON), as pydantic models: they validate requests and write
the OpenAPI document. Consent flags are strict booleans: consent is never inferred."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL: refuse it here (422), not in the database (500).
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL character")
        return value


class InsIn(_Strict):
    value: str = Field(min_length=13, max_length=32, description="NIR (15 caractères)")
    oid: str = Field(min_length=3, max_length=64, description="OID de l'INS")


class PatientIn(_Strict):
    ins: InsIn
    last_name: str = Field(min_length=1, max_length=100)
    first_name: str = Field(default="", max_length=100)
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
    last_name: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=100)


class WebAccessIn(_Strict):
    email: str | None = Field(default=None, max_length=254)
    mobile: str | None = Field(default=None, max_length=32)


class CreationIn(_Strict):
    patient: PatientIn
    consent: ConsentIn
    legal_representative: LegalRepresentativeIn | None = None
    web_access: WebAccessIn | None = None


class StatusIn(_Strict):
    ins: InsIn


class WebAccessRequestIn(_Strict):
    ins: InsIn
    email: str | None = Field(default=None, max_length=254)
    mobile: str | None = Field(default=None, max_length=32)


class WebAccessReissueIn(_Strict):
    ins: InsIn


class SessionIn(_Strict):
    challenge_id: str = Field(min_length=1, max_length=100)
    certificate: str = Field(min_length=1, max_length=20000, description="certificat PEM")
    signature: str = Field(
        min_length=1, max_length=2000, description="base64 de la signature RSA PKCS#1 v1.5 SHA-256"
    )


# --- answers ---------------------------------------------------------------------------------


class HealthOut(BaseModel):
    status: Literal["ok"]
    mode: Literal["test", "production"]


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


class CreationOut(BaseModel):
    dmp_id: str
    action: Literal["creation", "reactivation"]
    created_at: str
    web_access: WebCredentialsOut | None


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
