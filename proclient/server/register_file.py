"""The operator's INSi register file (``proclient serve --insi-register FILE.json``): a JSON
list of identities in the shape of INSi's answer (``{"ins", "history", "traits"}``), every one
checked before any is stored (server/register.py stores them).

The checks: INS OIDs the service's mode takes (register.accepted_oid), NIR and NIA keys, names
of letters, spaces, hyphens and apostrophes (stored upper case without diacritics, as INSi
writes them), birth date AAAAMMJJ, sex M or F, birthplace an INSEE code, one entry per person.
A refusal is one French sentence naming the entry by its rank, never its data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from proclient.core.domain import (
    OID_INS_NIR,
    REAL_INS_OIDS,
    TEST_INS_OIDS,
    DomainError,
    Ins,
    normalize_name,
    person_key,
    validate_nir,
)
from proclient.core.i18n import _
from proclient.core.identity import insi_form, normalize_birthplace
from proclient.server.register import (
    MAX_GIVEN_NAMES,
    MAX_HISTORY,
    RegisterIdentity,
    accepted_oid,
    store,
)


class RegisterError(DomainError):
    """An identity of a register file that the service cannot take (one French sentence,
    naming the entry by its rank, never its data)."""

    def __init__(self, message: str) -> None:
        super().__init__("SERVER_CONFIG", message)


def _ins_from(data: object, mode: str, where: str) -> Ins:
    if not isinstance(data, dict) or set(data) != {"value", "oid"}:
        raise RegisterError(_("{where} : l'INS doit porter « value » et « oid ».", where=where))
    value, oid = data["value"], data["oid"]
    if not isinstance(value, str) or not isinstance(oid, str):
        raise RegisterError(_("{where} : l'INS doit porter « value » et « oid ».", where=where))
    if oid not in TEST_INS_OIDS | REAL_INS_OIDS:
        raise RegisterError(
            _("{where} : l'OID n'est pas celui d'un INS-NIR ni d'un INS-NIA.", where=where)
        )
    if not accepted_oid(oid, mode):
        if mode == "production":
            message = _(
                "{where} : un INS de test ou de démonstration n'a pas sa place dans le "
                "registre INSi d'un service en production.",
                where=where,
            )
        else:
            message = _(
                "{where} : un INS-NIR réel (OID {oid}) n'a pas sa place dans le registre "
                "INSi d'un service de test.",
                where=where,
                oid=OID_INS_NIR,
            )
        raise RegisterError(message)
    try:
        return Ins(validate_nir(value), oid)
    except DomainError as error:
        raise RegisterError(
            _("{where} : le numéro d'INS est refusé ({code}).", where=where, code=error.code)
        ) from None


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) > 100:
        raise RegisterError(
            _("{where} : un nom ou un prénom manque ou est trop long.", where=where)
        )
    try:
        return insi_form(normalize_name(value))
    except DomainError:
        raise RegisterError(
            _(
                "{where} : un nom ou un prénom porte un caractère refusé (lettres, espaces, "
                "traits d'union et apostrophes seulement).",
                where=where,
            )
        ) from None


def identity_from_json(data: object, mode: str, rank: int = 1) -> RegisterIdentity:
    """An identity in the shape of INSi's answer (``{"ins", "history", "traits"}``), checked:
    INS OIDs this mode takes (:func:`accepted_oid`), NIR and NIA keys, names of letters,
    spaces, hyphens and apostrophes (stored upper case without diacritics, as INSi writes
    them), birth date AAAAMMJJ, sex M or F, birthplace an INSEE code. RegisterError names
    the entry by ``rank``."""
    where = _("Registre INSi, identité n° {rank}", rank=rank)
    if not isinstance(data, dict) or not {"ins", "traits"} <= set(data) <= {
        "ins",
        "history",
        "traits",
    }:
        raise RegisterError(
            _("{where} : attendu un objet avec « ins », « history » et « traits ».", where=where)
        )
    ins = _ins_from(data["ins"], mode, where)
    raw_history = data.get("history") or []
    if not isinstance(raw_history, list) or len(raw_history) > MAX_HISTORY:
        raise RegisterError(_("{where} : « history » doit être une liste d'INS.", where=where))
    history = tuple(_ins_from(old, mode, where) for old in raw_history)
    traits = data["traits"]
    fields = {"birth_name", "given_names", "sex", "birth_date", "birthplace"}
    if not isinstance(traits, dict) or not set(traits) <= fields or "birth_name" not in traits:
        raise RegisterError(
            _(
                "{where} : « traits » porte birth_name, given_names, sex, birth_date et "
                "birthplace.",
                where=where,
            )
        )
    given = traits.get("given_names")
    if not isinstance(given, list) or not 1 <= len(given) <= MAX_GIVEN_NAMES:
        raise RegisterError(
            _("{where} : « given_names » doit lister de 1 à 10 prénoms.", where=where)
        )
    sex, birth_date = traits.get("sex"), traits.get("birth_date")
    if sex not in ("M", "F"):
        raise RegisterError(_("{where} : le sexe est M ou F.", where=where))
    if not isinstance(birth_date, str) or len(birth_date) != 8 or not birth_date.isdigit():
        raise RegisterError(
            _("{where} : la date de naissance s'écrit AAAAMMJJ (8 chiffres).", where=where)
        )
    birthplace = traits.get("birthplace")
    try:
        place = normalize_birthplace(birthplace) if birthplace is not None else None
    except DomainError:
        place = ""
    if place == "" or (birthplace is not None and not isinstance(birthplace, str)):
        raise RegisterError(
            _("{where} : le lieu de naissance est un code INSEE de 5 caractères.", where=where)
        )
    return RegisterIdentity(
        ins=ins,
        birth_name=_name(traits["birth_name"], where),
        given_names=tuple(_name(name, where) for name in given),
        sex=sex,
        birth_date=birth_date,
        birthplace=place,
        history=_distinct(ins, history),
    )


def _distinct(ins: Ins, history: Iterable[Ins]) -> tuple[Ins, ...]:
    """The earlier matricules without the active INS and without repeats, in order."""
    seen = {person_key(ins)}
    kept = []
    for old in history:
        if person_key(old) not in seen:
            seen.add(person_key(old))
            kept.append(old)
    return tuple(kept)


def identities_from_file(path: Path, mode: str) -> list[RegisterIdentity]:
    """Every identity of a register file (a JSON list), all checked before any is stored."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        raise RegisterError(
            _("Le registre INSi {path} est introuvable ou illisible.", path=path)
        ) from None
    except ValueError:
        raise RegisterError(
            _("Le registre INSi {path} n'est pas un document JSON valide.", path=path)
        ) from None
    if not isinstance(data, list):
        raise RegisterError(
            _("Le registre INSi {path} doit être une liste JSON d'identités.", path=path)
        )
    identities = [identity_from_json(item, mode, rank) for rank, item in enumerate(data, 1)]
    _no_matricule_twice(identities)
    return identities


def _no_matricule_twice(identities: Sequence[RegisterIdentity]) -> None:
    seen: dict[str, int] = {}
    for rank, identity in enumerate(identities, 1):
        for own in {person_key(i) for i in (identity.ins, *identity.history)}:
            if own in seen:
                raise RegisterError(
                    _(
                        "Registre INSi : les identités n° {first} et n° {second} portent le "
                        "même matricule ; une personne, une identité.",
                        first=seen[own],
                        second=rank,
                    )
                )
            seen[own] = rank


def load_register_file(storage, path: Path, mode: str, at: str) -> int:
    """``proclient serve --insi-register FILE.json``: check every identity of the file, then
    store them all (or none); how many."""
    return store(storage, identities_from_file(path, mode), at)
