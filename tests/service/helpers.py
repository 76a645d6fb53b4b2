"""Patients, requests, the INSi register and a clock for the service tests.

Every creation or reactivation needs an INSi answer to the same professional for the INS, and
INSi's traits (server/insi.py): the test patients are INSi-shaped (upper case, no accents),
:func:`put_in_register` puts them in a service's register (through a Storage on the same
database), :func:`register_file` writes them for ``proclient serve --insi-register``, and the
``look_up*`` helpers ask INSi for them as a workstation does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from proclient.core.domain import (
    OID_INS_NIR_TEST,
    Action,
    BirthDate,
    Consent,
    Ins,
    LegalRepresentative,
    Patient,
    Professional,
    WebAccess,
    sex_from_nir,
)
from proclient.core.identity import CardQuery, InsiCode
from proclient.core.records import CreationRequest
from proclient.server.register import RegisterIdentity, store


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


def patient(
    nir: str, birth: str, last: str = "LE GOFF", first: str = "GERARD", oid: str = OID_INS_NIR_TEST
) -> Patient:
    """A patient as INSi gives them: birth name, given names joined by one space (upper case,
    no accents), birth date, sex (from the NIR)."""
    return Patient(Ins(nir, oid), last, first, BirthDate(birth), sex_from_nir(nir))


LE_GOFF = patient("152033523804587", "19520314")
LEA_DURAND = patient("215067511203450", "20150603", "DURAND", "LEA")
BEN_SAID = patient("155009935000780", "19550000", "BEN SAID", "KARIM")


# --- the INSi register and the look-ups -------------------------------------------------------


def identity_of(
    who: Patient, *, birthplace: str | None = None, history: Iterable[Ins] = ()
) -> RegisterIdentity:
    """``who`` as the service's INSi register holds them."""
    return RegisterIdentity(
        ins=who.ins,
        birth_name=who.last_name,
        given_names=tuple(who.first_name.split()),
        sex=who.sex.value if who.sex else "M",
        birth_date=who.birth_date.raw,
        birthplace=birthplace,
        history=tuple(history),
    )


def put_in_register(storage, *people: Patient | RegisterIdentity) -> None:
    """Upsert ``people`` into the INSi register of the service whose database ``storage``
    opens (the service's own Storage, or another on the same database)."""
    identities = [p if isinstance(p, RegisterIdentity) else identity_of(p) for p in people]
    store(storage, identities, datetime.now(UTC).isoformat(timespec="seconds"))


def answer_shape(who: Patient | RegisterIdentity) -> dict:
    """``who`` in the shape of INSi's answer (a ``--insi-register`` file's entries)."""
    identity = who if isinstance(who, RegisterIdentity) else identity_of(who)
    return identity.as_answer()


def register_file(path: Path, people: Iterable[Patient | RegisterIdentity]) -> Path:
    """A ``proclient serve --insi-register`` file holding ``people``."""
    path.write_text(json.dumps([answer_shape(p) for p in people], indent=1), encoding="utf-8")
    return path


def card_body(who: Patient) -> dict:
    """The body of ``POST /v1/insi/card`` that finds ``who`` (their NIR read from a card)."""
    return {
        "last_name": who.last_name,
        "first_name": who.first_name,
        "birth_date": who.birth_date.raw,
        "nir": who.ins.value,
        "rank": 1,
    }


def traits_body(who: Patient) -> dict:
    """The body of ``POST /v1/insi/traits`` that finds ``who``."""
    return {
        "birth_name": who.last_name,
        "first_given_name": who.first_name.split()[0],
        "sex": who.sex.value if who.sex else "M",
        "birth_date": who.birth_date.raw,
        "birthplace": None,
    }


async def look_up(client, *people: Patient) -> None:
    """Ask INSi for ``people`` by their card through a logged-in DmpServiceClient, as the
    workstation does before a creation (by card: test patients may share their traits); each
    must be found (00) under their INS."""
    for who in people:
        answer = await client.insi_by_card(
            CardQuery(who.last_name, who.first_name, who.birth_date, who.ins.value)
        )
        assert answer.code is InsiCode.FOUND, (who.ins.value, answer.code)
        assert answer.identity.ins == who.ins


async def insi_ready(storage, client, *people: Patient) -> None:
    """``people`` in the register of the service behind ``client`` and looked up by it."""
    put_in_register(storage, *people)
    await look_up(client, *people)


def look_up_http(http, *people: Patient, headers: dict | None = None) -> None:
    """The same look-ups over a plain httpx.Client that carries the session (or ``headers``)."""
    for who in people:
        answer = http.post("/v1/insi/card", json=card_body(who), headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["code"] == "00", (who.ins.value, answer.json()["code"])


async def look_up_async_http(http, *people: Patient, headers: dict | None = None) -> None:
    """:func:`look_up_http` over an httpx.AsyncClient."""
    for who in people:
        answer = await http.post("/v1/insi/card", json=card_body(who), headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["code"] == "00", (who.ins.value, answer.json()["code"])


def look_up_direct(operations, pro: Professional, *people: Patient) -> None:
    """The look-ups through the service's operations (DmpOperations), without HTTP."""
    from proclient.server.schemas import InsiCardIn

    for who in people:
        answer = operations.insi.by_card(pro, InsiCardIn.model_validate(card_body(who)))
        assert answer["code"] == "00", (who.ins.value, answer["code"])


def creation(
    who: Patient = LE_GOFF,
    *,
    action: Action = Action.CREATION,
    consent: Consent | None = None,
    representative: LegalRepresentative | None = None,
    web: WebAccess | None = None,
) -> CreationRequest:
    return CreationRequest(action, who, consent or Consent(creation=True), representative, web)
