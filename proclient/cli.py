"""Command line: `proclient` (the TUI), `proclient demo`, `proclient locate`, `--version`.

Errors reach the user as one French line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from proclient import __version__
from proclient.i18n import _
from proclient.logsafe import log_unexpected

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_CONFIGURED = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="proclient",
        description=_("Création du DMP depuis la carte Vitale du patient."),
    )
    parser.add_argument("--version", action="version", version=f"proclient {__version__}")
    commands = parser.add_subparsers(dest="command", metavar=_("commande"))
    demo = commands.add_parser(
        "demo", help=_("démonstration : cartes Vitale virtuelles et service DMP intégré"))
    demo.add_argument("--reset", action="store_true",
                      help=_("remet à zéro le service DMP de démonstration avant de démarrer"))
    commands.add_parser("locate", help=_("affiche où sont les réglages, les données et les accusés"))
    return parser


def _setup_logging(settings) -> None:
    """A file log for technical detail. Health data never goes there: messages carry codes
    and exception types, not patients."""
    log_dir = settings.paths.log_dir
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / "proclient.log", encoding="utf-8")
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _locate(settings) -> int:
    paths = settings.paths
    print(_("Réglages : {path}", path=paths.config_file))
    print(_("Données : {path}", path=paths.data_dir))
    print(_("Accusés de création : {path}", path=paths.receipts_dir))
    print(_("Démonstration : {path}", path=paths.demo_dir))
    print(_("Journal : {path}", path=paths.log_dir / "proclient.log"))
    return EXIT_OK


def _run(wiring) -> int:
    from proclient.app import ProclientApp

    ProclientApp(wiring).run()
    return EXIT_OK


def _demo(settings, reset: bool) -> int:
    from proclient.wiring import demo_wiring

    if reset:
        for leftover in settings.paths.demo_dir.glob("dmp-service.sqlite3*"):
            leftover.unlink()
    return _run(demo_wiring(settings))


def _not_configured(settings) -> int:
    from proclient.config import EXAMPLE_CONFIG

    print(_("proclient n'est pas encore réglé sur ce poste."), file=sys.stderr)
    print(_("Pour l'utiliser avec votre service DMP, créez le fichier {path}, par exemple :",
            path=settings.paths.config_file), file=sys.stderr)
    print(EXAMPLE_CONFIG, file=sys.stderr)
    print(_("Pour découvrir l'outil sans carte ni service : proclient demo"), file=sys.stderr)
    if sys.stdin.isatty() and sys.stdout.isatty():
        answer = input(_("Lancer la démonstration maintenant ? [O/n] ")).strip().lower()
        if answer in ("", "o", "oui", "y", "yes"):
            return _demo(settings, reset=False)
    return EXIT_NOT_CONFIGURED


def main(argv: list[str] | None = None) -> int:
    from proclient.config import load_settings
    from proclient.domain import DomainError

    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        _setup_logging(settings)
        if args.command == "locate":
            return _locate(settings)
        if args.command == "demo":
            return _demo(settings, args.reset)
        if not settings.configured:
            return _not_configured(settings)
        from proclient.wiring import configured_wiring

        return _run(configured_wiring(settings))
    except DomainError as error:
        print(error.message, file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR
    except Exception:
        log_unexpected(logging.getLogger(__name__), "unexpected failure")
        print(_("Erreur inattendue : le détail technique est dans le journal (proclient locate)."),
              file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
