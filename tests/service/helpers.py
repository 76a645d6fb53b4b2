"""Patients, requests and a clock for the service tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from proclient.domain import (
    OID_INS_NIR_TEST,
    Action,
    BirthDate,
    Consent,
    CreationRequest,
    Ins,
    LegalRepresentative,
    Patient,
    WebAccess,
    sex_from_nir,
)


class FakeClock:
    """The server's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# --- patients --------------------------------------------------------------------------------


def make_nir(sex: int, year: int, month: str, order: int = 123) -> str:
    """A well-formed fictitious NIR born in Paris (75 056), ``month`` as on the card."""
    body = f"{sex}{year % 100:02d}{month}75056{order:03d}"
    return f"{body}{97 - int(body) % 97:02d}"


def patient(nir: str, birth: str, last: str = "LE GOFF", first: str = "Gérard") -> Patient:
    return Patient(Ins(nir, OID_INS_NIR_TEST), last, first, BirthDate(birth), sex_from_nir(nir))


LE_GOFF = patient("152033523804587", "19520314")
LEA_DURAND = patient("215067511203450", "20150603", "DURAND", "Léa")
BEN_SAID = patient("155009935000780", "19550000", "BEN SAÏD", "Karim")


def creation(
    who: Patient = LE_GOFF,
    *,
    action: Action = Action.CREATION,
    consent: Consent | None = None,
    representative: LegalRepresentative | None = None,
    web: WebAccess | None = None,
) -> CreationRequest:
    return CreationRequest(action, who, consent or Consent(creation=True), representative, web)
