"""The e-CPS sign-in's wire format (server/ecps_routes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from proclient.core.domain import DomainError
from proclient.core.national_id import national_id as workstation_national_id
from proclient.server.schemas import ProfessionalOut, _Strict

NATIONAL_ID_PATTERN = r"^(8[0-9]{11}|0[0-9]{9}|02[AB][0-9]{7})$"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9_-]{43}$"


class EcpsStartIn(_Strict):
    national_id: str = Field(
        pattern=NATIONAL_ID_PATTERN,
        description="identifiant national du professionnel : RPPS préfixé de 8 (8 puis 11 "
        "chiffres) ou ADELI préfixé de 0 (0 puis 9 caractères)",
    )

    @field_validator("national_id", mode="after")
    @classmethod
    def _rpps_key(cls, value: str) -> str:
        # The RPPS number's last digit is a Luhn key: checked as the workstation does
        # (core/national_id.py), since the service trusts no client. ADELI: the shape only.
        if value.startswith("8"):
            try:
                workstation_national_id(value)
            except DomainError:
                raise ValueError("RPPS key") from None
        return value


class EcpsStartOut(BaseModel):
    request_id: str
    expires_in: int = Field(description="secondes laissées pour valider sur le téléphone")
    interval: int = Field(description="secondes entre deux interrogations utiles")


class EcpsRequestIn(_Strict):
    request_id: str = Field(pattern=REQUEST_ID_PATTERN)


class EcpsSessionOut(BaseModel):
    token: str
    expires_at: str = Field(
        description="fin au plus tard (4 h après la connexion) ; la session finit aussi après "
        "30 min sans requête"
    )
    professional: ProfessionalOut
    method: Literal["e-cps"]


class EcpsPollOut(BaseModel):
    status: Literal["pending", "approved"]
    interval: int | None = None
    expires_in: int | None = None
    session: EcpsSessionOut | None = None
