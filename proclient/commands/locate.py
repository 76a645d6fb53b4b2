"""`proclient locate`: where settings, data, receipts and the log live."""

from __future__ import annotations

from proclient.core.i18n import _

NAME = "locate"
HELP = _("affiche où sont les réglages, les données et les accusés")


def configure(parser) -> None:
    pass


def run(args, settings) -> int:
    paths = settings.paths
    print(_("Réglages : {path}", path=paths.config_file))
    print(_("Données : {path}", path=paths.data_dir))
    print(_("Accusés de création : {path}", path=paths.receipts_dir))
    print(_("Démonstration : {path}", path=paths.demo_dir))
    print(_("Journal : {path}", path=paths.log_dir / "proclient.log"))
    return 0
