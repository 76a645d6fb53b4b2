"""`proclient verify`: check a proof offline. This minimal version has ``--journal DIR`` only
(an export of the service's audit journal, commands/verify_journal.py); ``--code`` and
``FILE.pdf`` join it from their own branches. Exit codes: 0 valid, 20 altered, 21 unknown or
revoked key, 22 unreadable (docs/commands.md)."""

from __future__ import annotations

from proclient.core.i18n import _

NAME = "verify"
HELP = _("vérifie une preuve hors ligne (export du journal d'audit du service)")


def configure(parser) -> None:
    parser.add_argument(
        "--journal",
        metavar=_("DOSSIER"),
        required=True,
        help=_("dossier écrit par « proclient serve audit export »"),
    )


def _trusted(settings) -> list | None:
    """The service's certificates the settings name ([verify] service_certificates), or None."""
    from pathlib import Path

    from cryptography import x509

    named = settings.verify.service_certificates if settings is not None else None
    if not named:
        return None
    try:
        return x509.load_pem_x509_certificates(Path(named).expanduser().read_bytes())
    except (OSError, ValueError):
        from proclient.core.domain import DomainError

        raise DomainError(
            "CONFIG",
            _(
                "Les certificats du service nommés par [verify] service_certificates sont "
                "illisibles : {path}.",
                path=named,
            ),
        ) from None


def run(args, settings) -> int:
    import sys
    from pathlib import Path

    from proclient.commands.verify_journal import verify_export

    verdict = verify_export(Path(args.journal), _trusted(settings))
    print(verdict.sentence, file=sys.stdout if verdict.valid else sys.stderr)
    return verdict.exit_code
