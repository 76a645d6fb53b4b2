"""Command line: `proclient` (the TUI) and its sub-commands (see proclient/commands/).

Errors reach the user as one line on stderr, in the UI language, never a traceback. The
language is chosen first (``[ui] language``, else the session's locale, else French): the
sub-commands' help and the key labels are translated when their modules are imported, and
argparse's own words (usage, errors, -h) follow it.
"""

from __future__ import annotations

import argparse
import gettext
import importlib
import logging
import sys

from proclient import __version__
from proclient.commands import COMMAND_MODULES, EXIT_ERROR, EXIT_NOT_CONFIGURED, EXIT_OK
from proclient.core.i18n import LOCALE_DIR, _, choose_language, current_language, use_language
from proclient.core.logsafe import log_unexpected, private_log_handler


def _parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(
        prog="proclient",
        description=_("Création du DMP depuis la carte Vitale du patient."),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"proclient {__version__}",
        help=_("affiche la version de proclient et s'arrête"),
    )
    commands = parser.add_subparsers(dest="command", metavar=_("commande"))
    modules = {}
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.configure(commands.add_parser(module.NAME, help=module.HELP))
        modules[module.NAME] = module
    return parser, modules


def _argparse_in_ui_language() -> None:
    """argparse translates its words with the gettext functions it imported as ``_`` and
    ``ngettext``; point them at our "argparse" catalogue in the UI language (French is in
    proclient/locale/fr/LC_MESSAGES/argparse.po; English is argparse's own text)."""
    catalogue = gettext.translation(
        "argparse", localedir=LOCALE_DIR, languages=[current_language()], fallback=True
    )
    argparse._ = catalogue.gettext
    argparse.ngettext = catalogue.ngettext


def _setup_logging(settings) -> None:
    """A file log for technical detail, private to the user (0600) and rotated (1 MB, five
    kept). Health data never goes there: messages carry codes and exception types."""
    log_dir = settings.paths.log_dir
    try:
        handler = private_log_handler(log_dir / "proclient.log")
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _not_configured(settings) -> int:
    from proclient.core.settings import EXAMPLE_CONFIG

    print(_("proclient n'est pas encore réglé sur ce poste."), file=sys.stderr)
    print(
        _(
            "Pour l'utiliser avec votre service DMP, créez le fichier {path}, par exemple :",
            path=settings.paths.config_file,
        ),
        file=sys.stderr,
    )
    print(_(EXAMPLE_CONFIG), file=sys.stderr)
    print(_("Pour découvrir l'outil sans carte ni service : proclient demo"), file=sys.stderr)
    if sys.stdin.isatty() and sys.stdout.isatty():
        answer = input(_("Lancer la démonstration maintenant ? [O/n] ")).strip().lower()
        if answer in ("", "o", "oui", "y", "yes"):
            from proclient.commands import demo

            return demo.run(argparse.Namespace(reset=False), settings)
    return EXIT_NOT_CONFIGURED


def main(argv: list[str] | None = None) -> int:
    from proclient.core.domain import DomainError
    from proclient.core.settings import load_settings

    # Settings first, for the language; a broken file is reported once the arguments are read,
    # so that --help still answers.
    settings, settings_error = None, None
    try:
        settings = load_settings()
    except Exception as error:
        settings_error = error
    use_language(choose_language(settings.ui.language if settings else None))
    _argparse_in_ui_language()
    parser, modules = _parser()
    args = parser.parse_args(argv)
    try:
        if settings_error is not None:
            raise settings_error
        _setup_logging(settings)
        if args.command:
            return modules[args.command].run(args, settings)
        if not settings.configured:
            return _not_configured(settings)
        from proclient.app import ProclientApp
        from proclient.wiring import configured_wiring

        app = ProclientApp(configured_wiring(settings))
        app.run()
        return EXIT_ERROR if app.return_code else EXIT_OK
    except DomainError as error:
        print(error.message, file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR
    except Exception:
        log_unexpected(logging.getLogger(__name__), "unexpected failure")
        print(
            _("Erreur inattendue : le détail technique est dans le journal (proclient locate)."),
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
