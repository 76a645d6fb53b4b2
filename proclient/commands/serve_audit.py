"""`proclient serve audit verify|export`: the service's audit journal, checked or handed out.

``verify`` walks the whole journal of the service's database (``--database``, else the
[server] settings) against its signed heads and the service's document-signing certificates
(server/journal.py), prints one sentence and exits 0 (intact), 20 (altered: the first entry
edited, inserted, deleted, moved, or the tail cut), 21 (a head signed by an unknown key or
outside its certificate's validity) or 1 (no database). The certificates: ``--certificates
PEM``, else the bundle in the service's document-signing folder. ``export DIR`` writes the entries
(JSON lines), the signed heads and the certificates for an auditor, who checks them offline
with ``proclient verify --journal DIR`` (commands/verify_journal.py).
"""

from __future__ import annotations

from proclient.core.i18n import _


def configure(serve_parser) -> None:
    """``audit`` and its two sub-commands under ``proclient serve``."""
    commands = serve_parser.add_subparsers(dest="serve_command", metavar=_("commande"))
    audit = commands.add_parser("audit", help=_("vérifie ou exporte le journal d'audit"))
    actions = audit.add_subparsers(dest="audit_command", metavar=_("action"), required=True)
    verify = actions.add_parser(
        "verify", help=_("vérifie que le journal d'audit n'a été ni modifié ni coupé")
    )
    export = actions.add_parser(
        "export", help=_("écrit le journal d'audit, ses têtes signées et les certificats")
    )
    export.add_argument("directory", metavar=_("DOSSIER"), help=_("dossier de l'export"))
    for parser in (verify, export):
        parser.add_argument(
            "--database",
            metavar="URL",
            help=_("base : chemin SQLite, sqlite:///chemin ou postgresql://…"),
        )
        parser.add_argument(
            "--certificates",
            metavar="PEM",
            help=_(
                "certificats de signature du service (défaut : certificates.pem de son "
                "dossier document-signing)"
            ),
        )


def _certificates(config, named: str | None) -> list:
    from pathlib import Path

    from proclient.core.domain import DomainError
    from proclient.server.serving import document_signing_path
    from proclient.server.signing_key import BUNDLE_NAME, read_certificates

    bundle = Path(named).expanduser() if named else document_signing_path(config) / BUNDLE_NAME
    if not bundle.is_file():
        if named:
            raise DomainError(
                "SERVER_CONFIG",
                _("Fichier de certificats introuvable : {path}.", path=bundle),
            )
        return []
    try:
        return read_certificates(bundle)
    except ValueError:
        raise DomainError(
            "SERVER_CONFIG", _("Fichier de certificats illisible : {path}.", path=bundle)
        ) from None


def _mac_key(config) -> bytes | None:
    """The key the service writes audit lines with (server/journal.py), when this user can
    read the service's pseudonymisation key: the lines waiting for a seal are then checked
    against their MAC (without it, only counted)."""
    from proclient.core.domain import DomainError
    from proclient.server import serving
    from proclient.server.journal import JOURNAL_MAC_PURPOSE
    from proclient.server.pseudonym_key import read_key_file
    from proclient.server.storage import derive_key

    try:
        secret = read_key_file(serving.pseudonym_key_path(config))
    except (DomainError, OSError, ValueError):
        return None
    return derive_key(secret, JOURNAL_MAC_PURPOSE) if secret is not None else None


def run(args, settings) -> int:
    import sys
    from pathlib import Path

    from proclient.commands import EXIT_ERROR, EXIT_OK
    from proclient.server import serving
    from proclient.server.database import open_database
    from proclient.server.journal import Journal

    config = serving.load_serve_config(settings.paths, database=args.database)
    certificates = _certificates(config, args.certificates)
    try:
        db = open_database(config.database)
    except (ValueError, OSError):
        print(_("La base du service DMP est introuvable ou illisible."), file=sys.stderr)
        return EXIT_ERROR
    try:
        db.migrate()
        # Read only: sealing here, without the service's signer, could pass a head that is
        # due unsigned; the lines waiting are the service's to chain.
        journal = Journal(mac_key=_mac_key(config))
        if args.audit_command == "verify":
            verdict = journal.verify(db, certificates)
            print(verdict.sentence, file=sys.stdout if verdict.valid else sys.stderr)
            return verdict.exit_code
        count, heads = journal.export(db, Path(args.directory), certificates)
    finally:
        db.close()
    print(
        _(
            "Journal d'audit exporté dans {path} : {count} entrée(s), {heads} tête(s) signée(s).",
            path=args.directory,
            count=count,
            heads=heads,
        )
    )
    return EXIT_OK
