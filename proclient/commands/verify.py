"""`proclient verify`: check a proof offline. Here, `proclient verify FILE.pdf` (the accusé's
signature, commands/verify_pdf.py); helper S adds `--code` (the 2D code) and helper J
`--journal DIR` (the audit journal) on the same sub-command.

Exit codes (docs/commands.md): 0 valid, 20 altered, 21 unknown or revoked key, 22 unreadable,
23 unsigned.
"""

from __future__ import annotations

from proclient.core.i18n import _

NAME = "verify"
HELP = _("vérifie un accusé : sa signature électronique (FICHIER.pdf)")


def configure(parser) -> None:
    parser.add_argument("file", metavar=_("FICHIER.pdf"), help=_("l'accusé à vérifier (PDF)"))
    parser.add_argument(
        "--demo",
        action="store_true",
        help=_("fait confiance à l'autorité de la démonstration au lieu de [verify] cps_ca"),
    )


def run(args, settings) -> int:
    from pathlib import Path

    from proclient.commands.verify_pdf import verify_pdf_file

    return verify_pdf_file(Path(args.file), settings, demo=args.demo)
