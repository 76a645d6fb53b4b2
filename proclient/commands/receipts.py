"""`proclient receipts`: the journal of saved accusés, reprinting one, and the CUPS printers.

`list` shows date, operation, DMP id, format and the identity's status (no name); `print ID`
sends a saved accusé to the printer again (ID: the number from `list`, the DMP id or the file
name); `printers` lists the CUPS queues. A reprint never involves the secrets sheet: it is
never saved (HOM 112).
"""

from __future__ import annotations

from proclient.core.i18n import _

NAME = "receipts"
HELP = _("journal des accusés de création : liste, réimpression, imprimantes")


def configure(parser) -> None:
    actions = parser.add_subparsers(dest="receipts_action", metavar=_("action"), required=True)
    actions.add_parser(
        "list", help=_("liste les accusés enregistrés, du plus récent au plus ancien")
    )
    reprint = actions.add_parser("print", help=_("réimprime un accusé enregistré"))
    reprint.add_argument(
        "id", help=_("numéro affiché par « list », identifiant du DMP ou nom du fichier")
    )
    reprint.add_argument(
        "--printer", "-d", help=_("file d'impression CUPS (par défaut : le réglage [printer] name)")
    )
    actions.add_parser("printers", help=_("liste les imprimantes CUPS"))


def run(args, settings) -> int:
    from proclient.commands import EXIT_OK
    from proclient.receipts import journal, printing

    action = args.receipts_action
    directory = settings.paths.receipts_dir
    if action == "list":
        found = journal.entries(directory)
        if not found:
            print(_("Aucun accusé enregistré dans {dir}.", dir=directory))
            return EXIT_OK
        print(_("  n°  date              opération     DMP                    format  identité"))
        for entry in found:
            print(
                f"{entry.number:>4}  {entry.at:%d/%m/%Y %H:%M}  {entry.action_label:<13} "
                f"{entry.dmp_id or _('(masqué)'):<22} {entry.page_label:<7} {entry.status_label}"
            )
        return EXIT_OK
    if action == "printers":
        queues = printing.list_printers()
        if not queues:
            print(
                _("Aucune imprimante dans CUPS : ajoutez-en une (lpadmin ou http://localhost:631).")
            )
        chosen = printing.printer_choice(settings.printer.name)
        for queue in queues:
            marks = [queue.state]
            if queue.default:
                marks.append(_("par défaut dans CUPS"))
            if queue.name == chosen:
                marks.append(_("choisie pour proclient"))
            print(f"{queue.name}  ({', '.join(marks)})")
        return EXIT_OK
    from proclient.core.domain import DomainError

    entry = journal.find(directory, args.id)
    try:
        pdf = entry.path.read_bytes()
    except OSError:
        raise DomainError(
            "RECEIPT_UNREADABLE",
            _("L'accusé {path} est illisible : vérifiez les droits du dossier.", path=entry.path),
        ) from None
    job = printing.print_pdf(pdf, args.printer or settings.printer.name)
    print(
        _(
            "Accusé n° {n} ({date}) envoyé à l'imprimante : tâche {job}.",
            n=entry.number,
            date=entry.at.strftime("%d/%m/%Y %H:%M"),
            job=job,
        )
    )
    return EXIT_OK
