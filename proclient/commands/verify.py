"""`proclient verify`: check an accusé's proofs, offline, and say in one sentence what holds.

``--code TEXT`` checks the 2D code's signed statement (core/proof/statement.py) given on the
command line, or ``--code -`` as a counter's 2D scanner types it on the standard input (one
line). The service's certificates it is checked against: ``[verify] service_certificates``
(the service's ``document-signing/certificates.pem``), or with ``--demo`` the demo's.

``proclient verify FILE.pdf`` checks the accusé's PAdES signature (commands/verify_pdf.py,
trust in ``[verify] cps_ca`` or the demo CA) and the 2D code's statement the PDF carries.

One function per input kind (:func:`verify_code_text` here; the journal and the PDF add
theirs); each returns a :class:`~proclient.core.proof.verdict.Verdict`, printed by
:func:`report` and turned into the exit code: 0 valid, 20 altered, 21 unknown or revoked
key, 22 unreadable, 23 unsigned (docs/commands.md).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO

from proclient.commands import EXIT_ERROR, EXIT_NOT_CONFIGURED
from proclient.core.i18n import _
from proclient.core.proof.trust import NOT_CONFIGURED

if TYPE_CHECKING:
    from cryptography import x509

    from proclient.core.proof.verdict import Verdict

NAME = "verify"
HELP = _("vérifie un accusé : sa signature (FICHIER.pdf) ou son code 2D signé (--code)")

MAX_STDIN_CHARACTERS = 20_000  # a code is about 300; more is not a code (read no further)


def configure(parser) -> None:
    parser.add_argument(
        "file", nargs="?", metavar=_("FICHIER.pdf"), help=_("l'accusé à vérifier (PDF)")
    )
    parser.add_argument(
        "--code",
        metavar=_("TEXTE"),
        help=_(
            "le texte du code 2D de l'accusé (DMP1:…), ou « - » pour le lire sur l'entrée "
            "standard comme le tape un lecteur de codes 2D"
        ),
    )
    parser.add_argument(
        "--journal",
        metavar=_("DOSSIER"),
        help=_("dossier écrit par « proclient serve audit export » (le journal d'audit)"),
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=_("faire confiance aux certificats du service de démonstration de ce poste"),
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help=_("une ligne JSON (outcome, sentence, details) au lieu de la phrase"),
    )


def read_scanned(stream: TextIO) -> str:
    """The first line a scanner typed on ``stream`` (its Enter removed; nothing else
    touched: a space may end a base45 code). Bounded, and undecodable bytes read as
    such (the code is then unreadable, not a traceback)."""
    try:
        for _blank in range(10):  # a scanner's stray Enter before the code
            line = stream.readline(MAX_STDIN_CHARACTERS)
            if not line:
                return ""
            line = line.rstrip("\r\n")
            if line.strip():
                return line
    except (UnicodeDecodeError, OSError):
        return "\ufffd"
    return ""


def verify_code_text(text: str, certificates: list[x509.Certificate]) -> Verdict:
    from proclient.core.proof.statement import verify_code

    return verify_code(text, certificates)


def report(verdict: Verdict, *, as_json: bool = False, out: TextIO | None = None) -> int:
    """Print the verdict (its sentence, or one JSON line) and give its exit code."""
    out = out or sys.stdout
    if as_json:
        record = {"outcome": verdict.outcome, "sentence": verdict.sentence}
        record["details"] = verdict.details
        print(json.dumps(record, ensure_ascii=False, default=str), file=out)
    else:
        print(verdict.sentence, file=out)
    return verdict.exit_code


def _statement_check(settings, demo: bool):
    """The 2D code's check for a PDF's statement, or None when no service certificate is
    set (the PDF's signature is then checked alone)."""
    from proclient.core.proof.trust import TrustError, service_certificates

    try:
        certificates = service_certificates(settings, demo=demo)
    except TrustError:
        return None
    return lambda text: verify_code_text(text, certificates)


def _journal(args, settings) -> int:
    """``--journal DIR``: an export of the audit journal, offline. Trust: the service's
    certificates the settings name (or the demo's with --demo), else the export's own, which
    the sentence then says (with the key ids to compare)."""
    from pathlib import Path

    from proclient.commands.verify_journal import verify_export
    from proclient.core.proof.trust import TrustError, service_certificates

    try:
        trusted = service_certificates(settings, demo=args.demo)
    except TrustError as error:
        if error.code == NOT_CONFIGURED:
            trusted = None
        else:
            print(error.message, file=sys.stderr)
            return EXIT_ERROR
    verdict = verify_export(Path(args.journal), trusted)
    if args.json:
        return report(verdict, as_json=True)
    print(verdict.sentence, file=sys.stdout if verdict.valid else sys.stderr)
    return verdict.exit_code


def run(args, settings) -> int:
    if args.journal is not None:
        return _journal(args, settings)
    if args.file is not None:
        from pathlib import Path

        from proclient.commands.verify_pdf import TrustMissing, pdf_verdict

        check = _statement_check(settings, args.demo)
        try:
            verdict = pdf_verdict(Path(args.file), settings, demo=args.demo, check_statement=check)
        except TrustMissing as missing:
            print(missing, flush=True)
            return EXIT_NOT_CONFIGURED
        return report(verdict, as_json=args.json)
    if args.code is None:
        print(
            _(
                "Indiquez ce qu'il faut vérifier : FICHIER.pdf, --code TEXTE (ou --code - "
                "pour le lecteur) ou --journal DOSSIER."
            ),
            file=sys.stderr,
        )
        from proclient.commands import EXIT_USAGE

        return EXIT_USAGE
    from proclient.core.proof.trust import TrustError, service_certificates

    try:
        certificates = service_certificates(settings, demo=args.demo)
    except TrustError as error:
        print(error.message, file=sys.stderr)
        return EXIT_NOT_CONFIGURED if error.code == NOT_CONFIGURED else EXIT_ERROR
    text = read_scanned(sys.stdin) if args.code == "-" else args.code
    return report(verify_code_text(text, certificates), as_json=args.json)
