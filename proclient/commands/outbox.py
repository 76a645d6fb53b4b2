"""`proclient outbox`: the creations recorded offline, for scripts and the terminal.

`list` shows each entry without naming the patient: its id, the capture date and time (to
the second), the patient's initials and birth year (« L. G. 1952 »: enough for the
professional to tell two patients recorded in the same minute apart, never the name, the
full birth date nor the NIR; see :func:`proclient.outbox.port.patient_mask`), the
professional's idNat, the state and the reason. `show ID` gives one entry's detail, still
without the patient's identity (the same initials, the document seen, the consent flags,
whether a legal representative was given, whether INSi's identity was accepted); `send [ID]`
opens the service as `ins lookup` does (the configured workstation, or the demo's embedded
service with ``--demo``), unlocks the professional's credential with the code porteur, and
sends the pending entries (with ID: that one, held or not) through
:class:`proclient.controllers.outbox.OutboxController`, the accusés saved (and printed where
the workstation prints by itself) as the App files them.

Which outbox: there are two, as there are two ways to run the TUI. Without ``--demo`` the
commands read the workstation's (``proclient``, the configured workstation:
``<data>/outbox``); with ``--demo`` the demonstration's (``proclient demo``:
``<data>/demo/outbox``). They never switch by themselves — a script must not send the demo's
entries to a real service, nor the workstation's to the demo — but they say where to look:
the text list names the outbox it read; an empty outbox whose other one holds entries says
so in one sentence naming the command to run (with or without ``--demo``); an unknown ID
says which outbox was read, and points to the other one when the ID is there. `send` reads
the outbox before asking for the service or the code porteur, so that nothing to send needs
neither.

ID may be any unique prefix of the id `list` prints (as git takes a commit's). An ambiguous
prefix is refused with the candidates listed (exit 2, a usage error: give more characters);
an unknown one exits 6. ``--json`` prints one JSON document on the standard output (the
hints about the other outbox are text only). Errors are one French line on stderr; the exit
codes are in proclient/commands/__init__.py and docs/commands.md.
"""

from __future__ import annotations

from proclient.core.i18n import _

NAME = "outbox"
HELP = _("créations enregistrées hors connexion : liste, détail, envoi")


def configure(parser) -> None:
    actions = parser.add_subparsers(dest="outbox_action", metavar=_("action"), required=True)
    listing = actions.add_parser(
        "list", help=_("liste les créations en attente (sans nom de patient)")
    )
    show = actions.add_parser(
        "show", help=_("détail d'une création en attente (sans l'identité du patient)")
    )
    show.add_argument("id", metavar="ID", help=_("identifiant affiché par « list »"))
    send = actions.add_parser(
        "send", help=_("envoie les créations en attente au service DMP (avec la carte CPS)")
    )
    send.add_argument(
        "id",
        metavar="ID",
        nargs="?",
        help=_(
            "n'envoyer que cette création (même retenue) ; par défaut, toutes celles en attente"
        ),
    )
    send.add_argument(
        "--pin-stdin",
        action="store_true",
        help=_("lire le code porteur sur la première ligne de l'entrée standard (scripts)"),
    )
    for action in (listing, show, send):
        action.add_argument(
            "--json", action="store_true", help=_("un document JSON sur la sortie standard")
        )
        action.add_argument(
            "--demo",
            action="store_true",
            help=_("les créations de la démonstration (et son service DMP intégré)"),
        )


# --- words ------------------------------------------------------------------------------------


def reason_message(code: str) -> str:
    """The French sentence for a reason code ("" when none is known), without the TUI's
    keys."""
    from proclient.commands.ins import TUI_KEYS
    from proclient.core.problems import problem_message

    return TUI_KEYS.sub("", problem_message(code) or "") if code else ""


def _reason_text(code: str) -> str:
    sentence = reason_message(code)
    return f"{code} — {sentence}" if sentence else code


def _iso(moment) -> str | None:
    from datetime import UTC

    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _local(moment) -> str:
    """Local time to the second: one professional records one patient at a time, so two of
    their entries never share it."""
    from proclient.core.clock import paris_time

    return paris_time(moment).strftime("%d/%m/%Y %H:%M:%S") if moment else "—"


def summary_json(summary) -> dict:
    return {
        "id": summary.id,
        "captured_at": _iso(summary.captured_at),
        "patient": summary.patient or None,
        "id_nat": summary.id_nat or None,
        "state": summary.state.value,
        "reason": summary.reason or None,
    }


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns two spaces apart, each as wide as its widest cell (the header's
    translation included); the last column is not padded."""
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers) - 1)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            [*(cell.ljust(width) for cell, width in zip(cells, widths, strict=False)), cells[-1]]
        )

    return [line(headers), *(line(row) for row in rows)]


# --- reading ----------------------------------------------------------------------------------


def _list(args, home) -> int:
    import json

    from proclient.commands import EXIT_OK

    summaries = home.summaries()
    if args.json:
        print(json.dumps([summary_json(s) for s in summaries], ensure_ascii=False))
        return EXIT_OK
    if not summaries:
        print(home.nothing("list"))
        return EXIT_OK
    print(home.heading())
    headers = (
        _("identifiant"),
        _("recueillie le"),
        _("patient"),
        _("professionnel"),
        _("état"),
    )
    rows = [
        (
            s.id,
            _local(s.captured_at),
            s.patient or "—",
            s.id_nat or "—",
            s.state.label,
        )
        for s in summaries
    ]
    lines = _table(headers, rows)
    print(lines[0])
    for summary, line in zip(summaries, lines[1:], strict=True):
        print(line)
        if summary.reason:
            print("    " + _("motif : {reason}", reason=_reason_text(summary.reason)))
    return EXIT_OK


def _show(args, home) -> int:
    import json

    from proclient.commands import EXIT_OK
    from proclient.commands.outbox_home import outbox_failure
    from proclient.outbox.port import OutboxError

    summary = home.resolve(args.id, home.summaries())
    try:
        entry = home.outbox.get(summary.id)
    except OutboxError as error:
        raise outbox_failure(error) from None
    capture = entry.capture
    consent, representative = capture.consent, capture.legal_representative
    if args.json:
        value = summary_json(summary)
        value.update(
            {
                "reason_message": reason_message(summary.reason) or None,
                "document": {"code": capture.document.value, "label": capture.document.label},
                "consent": consent.fields(),
                "legal_representative": (
                    {
                        "relationship": representative.relationship.value,
                        "label": representative.relationship.label,
                    }
                    if representative
                    else None
                ),
                "insi_identity_accepted": entry.accepted,
            }
        )
        print(json.dumps(value, ensure_ascii=False))
        return EXIT_OK

    def yes_no(flag: bool) -> str:
        return _("oui") if flag else _("non")

    rows = [
        (_("Identifiant"), summary.id),
        (_("Recueillie le"), _local(summary.captured_at)),
        (_("Patient (initiales, année de naissance)"), summary.patient),
        (_("Professionnel (idNat)"), summary.id_nat),
        (_("État"), summary.state.label),
    ]
    if summary.reason:
        rows.append((_("Motif"), _reason_text(summary.reason)))
    rows += [
        (_("Document vu"), capture.document.label),
        (_("Consentement à la création"), yes_no(consent.creation)),
        (_("Accès SAMU (centre 15)"), yes_no(consent.samu_access)),
        (_("Accès en bris de glace"), yes_no(consent.break_glass_access)),
        (
            _("Représentant légal"),
            representative.relationship.label if representative else _("aucun"),
        ),
        (_("Identité INSi acceptée"), yes_no(entry.accepted)),
    ]
    width = max(len(label) for label, _value in rows) + 2
    for label, value in rows:
        print(f"{label.ljust(width)}{value}")
    return EXIT_OK


# --- sending ----------------------------------------------------------------------------------


class _FilingPaper:
    """The PaperController as receipt_filer sees it, noting where each accusé went (by DMP id:
    the paths carry no names)."""

    def __init__(self, paper) -> None:
        self.paper = paper
        self.paths: dict[str, object] = {}

    def file_receipt(self, receipt, credential=None):
        path, job = self.paper.file_receipt(receipt, credential)
        self.paths[receipt.dmp_id] = path
        return path, job


async def _send_run(args, binding, controller, paper, demo: bool, only: str | None):
    """Unlock the credential, open the session, send; the session is forgotten and the card
    logged out after, whatever happens."""
    from proclient.commands.ins import CommandExit, signed_in
    from proclient.commands.outbox_home import OutboxFailure
    from proclient.controllers.outbox import receipt_filer

    try:
        async with signed_in(args, binding) as (client, credential):
            professional = credential.professional
            filing = _FilingPaper(paper)
            report = await controller.send(
                client,
                professional,
                receipt_filer(filing, professional, demo, credential),
                only=only,
            )
            return report, filing.paths
    except CommandExit as failure:
        raise OutboxFailure(failure.code, failure.message) from None


def report_json(report, paths) -> dict:
    return {
        "created": [
            {
                "id": entry_id,
                "dmp_id": result.dmp_id,
                "receipt": str(paths[result.dmp_id]) if result.dmp_id in paths else None,
            }
            for entry_id, result in report.created
        ],
        "held": [{"id": entry_id, "reason": reason} for entry_id, reason in report.held],
        "tampered": list(report.tampered),
        "others": report.others,
        "stopped": (
            {"code": report.stopped.code, "message": report.stopped.message}
            if report.stopped is not None
            else None
        ),
    }


def report_text(report, paths) -> str:
    lines = [_("{n} créée(s).", n=len(report.created))]
    for entry_id, result in report.created:
        path = paths.get(result.dmp_id)
        lines.append(
            "  "
            + _(
                "{id} : DMP {dmp}, accusé {path}",
                id=entry_id,
                dmp=result.dmp_id,
                path=path if path is not None else _("(non enregistré)"),
            )
        )
    if report.held:
        lines.append(_("{n} retenue(s) :", n=len(report.held)))
        lines += [f"  {entry_id} : {_reason_text(reason)}" for entry_id, reason in report.held]
    if report.tampered:
        lines.append(_("{n} altérée(s) (refusées, non envoyées) :", n=len(report.tampered)))
        lines += [f"  {entry_id}" for entry_id in report.tampered]
    if report.others:
        lines.append(
            _(
                "{n} création(s) d'un autre professionnel laissée(s) : seul ce professionnel "
                "peut les envoyer.",
                n=report.others,
            )
        )
    return "\n".join(lines) + "\n"


def _send(args, home) -> int:
    import asyncio
    import json
    import sys
    from pathlib import Path

    from proclient.commands import EXIT_NOT_CONFIGURED, EXIT_OK, EXIT_OUTBOX_HELD, EXIT_SERVICE
    from proclient.commands.outbox_home import OutboxFailure, outbox_failure
    from proclient.controllers.outbox import STOPS_THE_RUN, OutboxController, send_lock_path
    from proclient.controllers.paper import PaperController
    from proclient.core.domain import DomainError
    from proclient.outbox.port import EntryState
    from proclient.service.errors import ServiceError

    # The outbox first: an unknown ID or nothing to send needs neither the service nor the
    # code porteur (nor a configured workstation).
    summaries = home.summaries()
    only = home.resolve(args.id, summaries).id if args.id is not None else None
    if only is None and not any(s.state is not EntryState.HELD for s in summaries):
        held = sum(1 for s in summaries if s.state is EntryState.HELD)
        if args.json:
            print(json.dumps(report_json(_empty_report(), {}), ensure_ascii=False))
        elif held:
            print(
                _(
                    "Aucune création à envoyer : {n} retenue(s), à renvoyer une par une avec "
                    "« proclient outbox send ID » (voir « proclient outbox list »).",
                    n=held,
                )
            )
        else:
            print(home.nothing("send"))
        return EXIT_OK
    wiring = _wiring(args, home.settings)
    outbox = wiring.outbox
    try:
        binding = wiring.open_service()
    except DomainError as error:  # a bad URL or CA bundle
        raise OutboxFailure(EXIT_NOT_CONFIGURED, error.message) from None
    directory = Path(outbox.directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    controller = OutboxController(outbox, today=wiring.today, lock_path=send_lock_path(outbox))
    paper = PaperController(
        wiring.receipts_dir, wiring.receipt_format, wiring.printer, wiring.auto_print, wiring.demo
    )
    try:
        report, paths = asyncio.run(_send_run(args, binding, controller, paper, wiring.demo, only))
    except ServiceError as error:  # the login, or the service unreachable
        raise OutboxFailure(EXIT_SERVICE, error.message) from None
    if args.json:
        print(json.dumps(report_json(report, paths), ensure_ascii=False))
    else:
        print(report_text(report, paths), end="")
    if report.stopped is not None:
        print(report.stopped.message, file=sys.stderr)
        if report.stopped.code in STOPS_THE_RUN:
            return EXIT_SERVICE
        return outbox_failure(report.stopped).code  # an accusé not saved: 1
    if report.held or report.tampered:
        return EXIT_OUTBOX_HELD
    return EXIT_OK


def _empty_report():
    from proclient.controllers.outbox_report import SendReport

    return SendReport()


# --- the command ------------------------------------------------------------------------------


def _wiring(args, settings):
    from proclient.commands import EXIT_NOT_CONFIGURED
    from proclient.commands.outbox_home import OutboxFailure
    from proclient.core.domain import DomainError
    from proclient.wiring import configured_wiring, demo_wiring

    if args.demo:
        return demo_wiring(settings)
    try:
        return configured_wiring(settings)
    except DomainError as error:  # no service or credential set
        raise OutboxFailure(EXIT_NOT_CONFIGURED, error.message) from None


def run(args, settings) -> int:
    import sys

    from proclient.commands.outbox_home import OutboxFailure, OutboxHome

    try:
        # The outbox alone for list and show: no service, no credential needed.
        home = OutboxHome(settings, demo=args.demo)
        if args.outbox_action == "list":
            return _list(args, home)
        if args.outbox_action == "show":
            return _show(args, home)
        return _send(args, home)
    except OutboxFailure as failure:
        print(failure.message, file=sys.stderr)
        return failure.code
