"""`proclient verify`: check an accusé's proofs, offline, and say in one sentence what holds.

``--code TEXT`` checks the 2D code's signed statement (core/proof/statement.py) given on the
command line, or ``--code -`` as a counter's 2D scanner types it on the standard input (one
line). The service's certificates it is checked against: ``[verify] service_certificates``
(the service's ``document-signing/certificates.pem``), or with ``--demo`` the demo's.

One function per input kind (:func:`verify_code_text` here; the journal and the PDF add
theirs); each returns a :class:`~proclient.core.proof.verdict.Verdict`, printed by
:func:`report` and turned into the exit code: 0 valid, 20 altered, 21 unknown or revoked
key, 22 unreadable (docs/commands.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from proclient.commands import EXIT_ERROR, EXIT_NOT_CONFIGURED
from proclient.core.i18n import _

if TYPE_CHECKING:
    from cryptography import x509

    from proclient.core.proof.verdict import Verdict

NAME = "verify"
HELP = _("vérifie un accusé : le code 2D signé par le service DMP")

MAX_STDIN_CHARACTERS = 20_000  # a code is about 300; more is not a code (read no further)
DEMO_CERTIFICATES = (
    ("demo", "document-signing"),  # proclient demo's embedded service (paths.demo_dir)
    ("server", "demo", "document-signing"),  # proclient serve --init-demo
)
BUNDLE = "certificates.pem"


class TrustError(Exception):
    """No usable service certificate: ``code`` is the exit code, the message one sentence."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def configure(parser) -> None:
    parser.add_argument(
        "--code",
        metavar=_("TEXTE"),
        help=_(
            "le texte du code 2D de l'accusé (DMP1:…), ou « - » pour le lire sur l'entrée "
            "standard comme le tape un lecteur de codes 2D"
        ),
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


def service_certificates(settings, *, demo: bool = False) -> list[x509.Certificate]:
    """The DMP service's document-signing certificates this workstation trusts: the bundle
    ``[verify] service_certificates`` names, or with ``demo`` those of the demo services of
    this workstation. Raises TrustError."""
    from cryptography import x509

    if demo:
        paths = [settings.paths.data_dir.joinpath(*parts, BUNDLE) for parts in DEMO_CERTIFICATES]
        paths = [path for path in paths if path.is_file()]
        if not paths:
            raise TrustError(
                _(
                    "Aucun certificat du service de démonstration sur ce poste : lancez "
                    "d'abord « proclient demo » (ou « proclient serve --init-demo »)."
                ),
                EXIT_NOT_CONFIGURED,
            )
    else:
        configured = settings.verify.service_certificates
        if not configured:
            raise TrustError(
                _(
                    "Réglage verify.service_certificates manquant : indiquez le fichier "
                    "certificates.pem du service DMP (dossier document-signing du service), "
                    "ou ajoutez --demo."
                ),
                EXIT_NOT_CONFIGURED,
            )
        paths = [Path(configured).expanduser()]
    certificates: list[x509.Certificate] = []
    for path in paths:
        try:
            certificates += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError):
            raise TrustError(
                _(
                    "Le fichier de certificats du service {path} est introuvable ou illisible "
                    "(verify.service_certificates).",
                    path=path,
                ),
                EXIT_ERROR,
            ) from None
    return certificates


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


def run(args, settings) -> int:
    if args.code is None:
        print(
            _("Indiquez ce qu'il faut vérifier : --code TEXTE (ou --code - pour le lecteur)."),
            file=sys.stderr,
        )
        from proclient.commands import EXIT_USAGE

        return EXIT_USAGE
    try:
        certificates = service_certificates(settings, demo=args.demo)
    except TrustError as error:
        print(str(error), file=sys.stderr)
        return error.code
    text = read_scanned(sys.stdin) if args.code == "-" else args.code
    return report(verify_code_text(text, certificates), as_json=args.json)
