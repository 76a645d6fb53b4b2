"""`proclient card read`: read the Carte Vitale in a PC/SC reader and print its beneficiaries.

For scripts (the GP's practice software) ``--json`` prints one JSON object on stdout. Errors
are one French line on stderr and a documented exit code (proclient/commands/__init__.py).
"""

from __future__ import annotations

from proclient.core.i18n import _

NAME = "card"
HELP = _("lit la carte Vitale du lecteur (lecteur PC/SC réel)")


def configure(parser) -> None:
    actions = parser.add_subparsers(dest="card_action", metavar=_("action"), required=True)
    read = actions.add_parser("read", help=_("lit la carte et affiche ses bénéficiaires"))
    read.add_argument(
        "--reader",
        metavar=_("NOM"),
        help=_(
            "une partie du nom du lecteur (par défaut : réglage readers.patient, "
            "sinon le premier lecteur)"
        ),
    )
    read.add_argument("--json", action="store_true", help=_("un objet JSON sur la sortie standard"))


def exit_code_for(error) -> int:
    """The exit code of a CardError (documented in docs/commands.md)."""
    from proclient.cardreader import errors
    from proclient.commands import EXIT_CARD_UNREADABLE, EXIT_NO_CARD, EXIT_NO_READER

    if error.code in (errors.NO_READER, errors.SERVICE_GONE, errors.READER_BUSY):
        return EXIT_NO_READER
    if error.code == errors.NO_CARD:
        return EXIT_NO_CARD
    return EXIT_CARD_UNREADABLE


def beneficiary_json(beneficiary) -> dict:
    from proclient.core.domain import sex_from_nir

    born = beneficiary.birth_date.as_date
    sex = sex_from_nir(beneficiary.nir) if beneficiary.nir else None
    return {
        "last_name": beneficiary.last_name,
        "first_name": beneficiary.first_name,
        "birth_date_on_card": beneficiary.birth_date.raw,
        "birth_date": born.isoformat() if born else None,
        "nir": beneficiary.nir or None,
        "sex": sex.value if sex else None,
    }


def read_card(reader: str | None, settings):
    """(ATR, VitaleCard) of the Carte Vitale in the patient reader (``reader``: part of its
    name; default the ``readers.patient`` setting, else the first reader). Raises CardError."""
    from proclient.cardreader.apdu import T0Transport
    from proclient.cardreader.pcsc import PATIENT, PcscReaderBackend
    from proclient.cardreader.vitale import read_vitale

    pattern = reader if reader is not None else (settings.readers.patient or "")
    connection = PcscReaderBackend({PATIENT: pattern}).connect(PATIENT)
    try:
        atr = bytes(connection.atr)
        return atr, read_vitale(connection, transport=T0Transport(connection))
    finally:
        connection.disconnect()


def run(args, settings) -> int:
    import json
    import sys

    from proclient.cardreader.errors import CardError
    from proclient.cardreader.vitale import card_type_from_atr
    from proclient.commands import EXIT_OK
    from proclient.core.domain import format_nir

    try:
        atr, card = read_card(args.reader, settings)
    except CardError as error:
        print(error.message, file=sys.stderr)
        return exit_code_for(error)
    if args.json:
        document = {
            "card": {"type": card_type_from_atr(atr).value, "atr": atr.hex().upper()},
            "beneficiaries": [beneficiary_json(b) for b in card.beneficiaries],
        }
        print(json.dumps(document, ensure_ascii=False))
        return EXIT_OK
    print(_("Carte Vitale 2 — {n} bénéficiaire(s)", n=len(card.beneficiaries)))
    for b in card.beneficiaries:
        lunar = _(" (date lunaire)") if b.birth_date.is_lunar else ""
        nir = format_nir(b.nir) if b.nir else _("absent de la carte")
        print(
            _(
                "  {name}, né(e) le {birth}{lunar}, NIR {nir}",
                name=b.display_name,
                birth=b.birth_date.display,
                lunar=lunar,
                nir=nir,
            )
        )
    return EXIT_OK
