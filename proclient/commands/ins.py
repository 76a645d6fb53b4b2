"""`proclient ins lookup`: ask INSi for the patient's INS, as the professional, from a script.

The patient comes from the Carte Vitale in the patient reader (read as `proclient card read`
reads it; ``--beneficiary N`` picks one of several) or from the traits typed on the command
line (``--traits``). INSi is asked through the workstation's DMP service, with the
professional's session: the configured credential (CPS through PKCS#11, or the software key)
unlocked with the code porteur, read from the terminal without echo, or from the standard
input's first line with ``--pin-stdin``. The code is wiped once the card has it.

The answer is French text (code, INS with its OID's label, INSi's traits, earlier matricules,
the differences with the card; for 01 and 02 the next step) or, with ``--json``, one object
``{"code", "identity"}`` shaped like the service's answer. Errors are one French line on
stderr; the exit codes are in proclient/commands/__init__.py and docs/commands.md.
"""

from __future__ import annotations

import contextlib
import re

from proclient.core.i18n import _

NAME = "ins"
HELP = _("interroge l'INSi (INS du patient) depuis la carte Vitale ou les traits d'identité")

# The next-step sentences (proclient.core.problems) name the TUI's keys: no key here.
TUI_KEYS = re.compile(r" \((?:F\d{1,2}|Échap)\)")


def configure(parser) -> None:
    actions = parser.add_subparsers(dest="ins_action", metavar=_("action"), required=True)
    lookup = actions.add_parser(
        "lookup",
        help=_("cherche l'INS du patient : par la carte Vitale du lecteur, ou par les traits"),
    )
    lookup.add_argument(
        "--reader",
        metavar=_("NOM"),
        help=_(
            "une partie du nom du lecteur (par défaut : réglage readers.patient, "
            "sinon le premier lecteur)"
        ),
    )
    lookup.add_argument(
        "--beneficiary",
        type=int,
        metavar="N",
        help=_("le bénéficiaire de la carte (1 pour le premier ; inutile s'il est seul)"),
    )
    lookup.add_argument(
        "--traits",
        action="store_true",
        help=_(
            "chercher par les traits (sans carte) : --birth-name, --first-name, --sex, --birth-date"
        ),
    )
    lookup.add_argument("--birth-name", metavar=_("NOM"), help=_("nom de naissance"))
    lookup.add_argument("--first-name", metavar=_("PRÉNOM"), help=_("premier prénom de naissance"))
    lookup.add_argument(
        "--sex",
        metavar="M|F",
        help=_("sexe (avec --traits, ou pour un bénéficiaire sans NIR propre sur la carte)"),
    )
    lookup.add_argument(
        "--birth-date",
        metavar=_("JJ/MM/AAAA"),
        help=_("date de naissance (00 pour un jour ou un mois inconnu)"),
    )
    lookup.add_argument(
        "--birthplace",
        metavar=_("LIEU"),
        help=_(
            "lieu de naissance : la commune (ex. Toulouse, « Saint-Denis (93) ») ou le pays, "
            "ou son code INSEE"
        ),
    )
    lookup.add_argument(
        "--pin-stdin",
        action="store_true",
        help=_("lire le code porteur sur la première ligne de l'entrée standard (scripts)"),
    )
    lookup.add_argument(
        "--json", action="store_true", help=_("un objet JSON sur la sortie standard")
    )


class CommandExit(Exception):
    """One French line for stderr and the exit code that goes with it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code)
        self.code, self.message = code, message


# --- what to ask ------------------------------------------------------------------------------


def _traits_query(args, today):
    from proclient.commands import EXIT_USAGE
    from proclient.core.domain import DomainError
    from proclient.core.identity import traits_query
    from proclient.core.typed import typed_birth_date, typed_sex

    missing = [
        option
        for option, value in (
            ("--birth-name", args.birth_name),
            ("--first-name", args.first_name),
            ("--sex", args.sex),
            ("--birth-date", args.birth_date),
        )
        if not (value or "").strip()
    ]
    if missing:
        raise CommandExit(
            EXIT_USAGE,
            _("Avec --traits, indiquez aussi : {options}.", options=", ".join(missing)),
        )
    try:
        return traits_query(
            args.birth_name,
            args.first_name,
            typed_sex(args.sex),
            typed_birth_date(args.birth_date, today),
            args.birthplace,
        )
    except DomainError as error:
        raise CommandExit(EXIT_USAGE, error.message) from None


def _read_card(args, settings):
    """The Carte Vitale in the patient reader, read as `proclient card read` reads it."""
    from proclient.cardreader.errors import CardError
    from proclient.commands.card import exit_code_for, read_card

    try:
        return read_card(args.reader, settings)[1]
    except CardError as error:
        raise CommandExit(exit_code_for(error), error.message) from None


def _card_query(args, settings, today):
    """The beneficiary chosen on the card and INSi's look-up for them: by the card when it
    carries their own NIR, by the traits otherwise (then ``--sex`` is needed: such a card
    does not tell it)."""
    from dataclasses import replace

    from proclient.commands import EXIT_CARD_UNREADABLE, EXIT_USAGE
    from proclient.core.domain import DomainError
    from proclient.core.flow import CreationFlow
    from proclient.core.identity import CardQuery, traits_query
    from proclient.core.places import resolve_birthplace
    from proclient.core.typed import typed_sex

    card = _read_card(args, settings)
    flow = CreationFlow(today=today)
    try:
        flow.card_read(card)
    except DomainError as error:
        raise CommandExit(EXIT_CARD_UNREADABLE, error.message) from None
    count = len(card.beneficiaries)
    if args.beneficiary is None and count > 1:
        names = ", ".join(
            f"{n} : {b.display_name}" for n, b in enumerate(card.beneficiaries, start=1)
        )
        raise CommandExit(
            EXIT_USAGE,
            _(
                "La carte porte {count} bénéficiaires : choisissez-en un avec --beneficiary N "
                "({names}).",
                count=count,
                names=names,
            ),
        )
    number = args.beneficiary if args.beneficiary is not None else 1
    if not 1 <= number <= count:
        raise CommandExit(
            EXIT_USAGE,
            _(
                "La carte porte {count} bénéficiaire(s) : --beneficiary va de 1 à {count}.",
                count=count,
            ),
        )
    try:
        held = flow.choose_beneficiary(number - 1)
    except DomainError as error:  # a NIR the card got wrong
        raise CommandExit(EXIT_CARD_UNREADABLE, error.message) from None
    if held.by_card:
        assert held.nir is not None
        return held, CardQuery(held.last_name, held.first_name, held.birth_date, held.nir, number)
    if not (args.sex or "").strip():
        raise CommandExit(
            EXIT_USAGE,
            _(
                "La carte ne porte pas le NIR de ce bénéficiaire : l'INSi est interrogé par les "
                "traits, indiquez son sexe avec --sex M ou --sex F."
            ),
        )
    try:
        held = replace(
            held,
            sex=typed_sex(args.sex),
            birthplace=resolve_birthplace(args.birthplace or "", held.birth_date),
        )
        query = traits_query(
            held.last_name, held.first_name, held.sex, held.birth_date, held.birthplace
        )
    except DomainError as error:
        raise CommandExit(EXIT_USAGE, error.message) from None
    return held, query


# --- the professional's session -----------------------------------------------------------------


def _read_pin(args, label: str) -> bytearray:
    import getpass
    import sys

    from proclient.commands import EXIT_CREDENTIAL

    if args.pin_stdin:
        stream = getattr(sys.stdin, "buffer", None)
        line = stream.readline() if stream is not None else sys.stdin.readline().encode()
        pin = bytearray(line.rstrip(b"\r\n"))
    else:
        if not sys.stdin.isatty():
            raise CommandExit(
                EXIT_CREDENTIAL,
                _(
                    "Le code porteur se tape dans un terminal : lancez la commande depuis un "
                    "terminal, ou passez-le sur l'entrée standard avec --pin-stdin."
                ),
            )
        pin = bytearray(getpass.getpass(_("Code porteur ({label}) : ", label=label)).encode())
    if not pin:
        raise CommandExit(EXIT_CREDENTIAL, _("Aucun code porteur saisi : rien n'a été envoyé."))
    return pin


def unlock_credential(args, source):
    """The credential unlocked with the code porteur (wiped by ``unlock``, whatever happens)."""
    import sys

    from proclient.commands import EXIT_CREDENTIAL
    from proclient.core.domain import DomainError
    from proclient.credentials.pin import wipe

    try:
        status = source.pin_status()
    except DomainError as error:
        raise CommandExit(EXIT_CREDENTIAL, error.message) from None
    if status.locked:
        raise CommandExit(EXIT_CREDENTIAL, status.warning)
    if status.warning:
        print(status.warning, file=sys.stderr)
    pin = _read_pin(args, source.label)
    try:
        return source.unlock(pin)
    except DomainError as error:
        raise CommandExit(EXIT_CREDENTIAL, error.message) from None
    finally:
        wipe(pin)


@contextlib.asynccontextmanager
async def signed_in(args, binding):
    """The service session of a command: the credential unlocked with the code typed now (a
    command line may block), then the login; afterwards, whatever happens, the session is
    forgotten, the client closed and the card logged out. Yields the client and the
    credential."""
    client, credential = binding.client, None
    try:
        credential = unlock_credential(args, binding.credentials)
        await client.login(credential)
        yield client, credential
    finally:
        client.forget_session()
        await client.aclose()
        close = getattr(credential, "close", None)
        if close is not None:
            close()


async def _ask(args, binding, query):
    """Unlock the credential (the code typed now: a command line may block), open the
    service session, ask INSi; the session is forgotten and the card logged out after."""
    from proclient.core.identity import CardQuery

    async with signed_in(args, binding) as (client, _credential):
        if isinstance(query, CardQuery):
            return await client.insi_by_card(query)
        return await client.insi_by_traits(query)


# --- the answer ---------------------------------------------------------------------------------


def answer_json(answer) -> dict:
    """The answer as the service gives it: ``{"code", "identity"}`` (identity with 00 only)."""
    identity = answer.identity
    if identity is None:
        return {"code": answer.code.value, "identity": None}
    traits = identity.traits
    return {
        "code": answer.code.value,
        "identity": {
            "ins": {"value": identity.ins.value, "oid": identity.ins.oid},
            "history": [{"value": old.value, "oid": old.oid} for old in identity.history],
            "traits": {
                "birth_name": traits.birth_name,
                "given_names": list(traits.given_names),
                "sex": traits.sex.value,
                "birth_date": traits.birth_date.raw,
                "birthplace": traits.birthplace,
            },
        },
    }


def next_step(answer) -> str:
    """What a 01 or 02 answer means for the professional, without the TUI's keys, and how to
    go on from the command line."""
    from proclient.core.identity import InsiCode, insi_refusal

    refusal = insi_refusal(answer)
    if refusal is None:
        return ""
    sentence = TUI_KEYS.sub("", refusal.message)
    if answer.code is InsiCode.SEVERAL:
        hint = _("Avec cette commande : ajoutez --birthplace LIEU (commune ou pays).")
    elif answer.by_card:
        hint = _(
            "Avec cette commande : proclient ins lookup --traits --birth-name NOM "
            "--first-name PRÉNOM --sex M|F --birth-date JJ/MM/AAAA."
        )
    else:
        hint = ""
    return f"{sentence}\n{hint}" if hint else sentence


def answer_text(answer, held=None) -> str:
    """The answer in French, for a person: the identity found, or what to do next."""
    from proclient.core.domain import format_nir
    from proclient.core.identity import InsiCode, differences

    if answer.code is InsiCode.NONE:
        return _("INSi : aucune identité trouvée (code 01).") + "\n" + next_step(answer) + "\n"
    if answer.code is InsiCode.SEVERAL:
        return _("INSi : plusieurs identités trouvées (code 02).") + "\n" + next_step(answer) + "\n"
    identity = answer.identity
    traits = identity.traits
    birth = traits.birth_date.display
    if traits.birth_date.is_lunar:
        birth = _("{date} (date lunaire)", date=birth)
    rows = [
        (_("INS ({label})", label=identity.ins.label), format_nir(identity.ins.value)),
        (_("OID de l'INS"), identity.ins.oid),
        (_("Nom de naissance"), traits.birth_name),
        (_("Prénom(s)"), traits.given_names_text),
        (_("Sexe"), traits.sex.label),
        (_("Date de naissance"), birth),
        (_("Lieu de naissance"), traits.birthplace or _("non renseigné")),
    ]
    if identity.history:
        rows.append(
            (
                _("Anciens matricules"),
                ", ".join(f"{format_nir(old.value)} ({old.label})" for old in identity.history),
            )
        )
    width = max(len(label) for label, _value in rows) + 2
    lines = [_("INSi : une identité trouvée (code 00).")]
    lines += [f"  {label.ljust(width)}{value}" for label, value in rows]
    if held is not None:
        found = differences(held, identity)
        if found:
            lines.append(_("Différences avec la carte :"))
            lines += [f"  - {difference.label}" for difference in found]
        else:
            lines.append(_("Aucune différence avec la carte."))
    return "\n".join(lines) + "\n"


# --- the command --------------------------------------------------------------------------------


def _lookup(args, settings) -> int:
    import asyncio
    import json
    from datetime import date

    from proclient.commands import (
        EXIT_INSI_NONE,
        EXIT_INSI_SEVERAL,
        EXIT_NOT_CONFIGURED,
        EXIT_OK,
        EXIT_SERVICE,
    )
    from proclient.core.domain import DomainError
    from proclient.core.identity import InsiCode
    from proclient.service.errors import ServiceError
    from proclient.wiring import configured_wiring

    today = date.today()
    if args.traits:
        held, query = None, _traits_query(args, today)
    else:
        held, query = _card_query(args, settings, today)
    try:
        wiring = configured_wiring(settings)
        binding = wiring.open_service()
    except DomainError as error:  # no service or credential set, a bad URL or CA bundle
        raise CommandExit(EXIT_NOT_CONFIGURED, error.message) from None
    try:
        answer = asyncio.run(_ask(args, binding, query))
    except ServiceError as error:
        raise CommandExit(EXIT_SERVICE, error.message) from None
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False))
    else:
        print(answer_text(answer, held), end="")
    return {InsiCode.FOUND: EXIT_OK, InsiCode.NONE: EXIT_INSI_NONE}.get(
        answer.code, EXIT_INSI_SEVERAL
    )


def run(args, settings) -> int:
    import sys

    try:
        return _lookup(args, settings)
    except CommandExit as failure:
        print(failure.message, file=sys.stderr)
        return failure.code
