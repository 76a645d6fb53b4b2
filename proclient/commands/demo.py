"""`proclient demo`: virtual cards and the embedded service."""

from __future__ import annotations

from proclient.core.i18n import _

NAME = "demo"
HELP = _("démonstration : cartes Vitale virtuelles et service DMP intégré")


def configure(parser) -> None:
    parser.add_argument(
        "--reset",
        action="store_true",
        help=_(
            "remet à zéro le service DMP de démonstration et débloque la carte CPS de "
            "démonstration avant de démarrer"
        ),
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help=_("démarre le réseau coupé : le service DMP intégré est injoignable jusqu'à F12"),
    )
    parser.add_argument(
        "--pcsc",
        action="store_true",
        help=_("les cartes virtuelles passent par pcscd et vpcd (pile réelle)"),
    )


def run(args, settings) -> int:
    from proclient.app import ProclientApp
    from proclient.commands import EXIT_ERROR, EXIT_OK
    from proclient.wiring import demo_wiring

    if getattr(args, "reset", False):
        from proclient.credentials.demo_tries import DEMO_TRIES_FILE, DemoPinCounter

        for leftover in settings.paths.demo_dir.glob("dmp-service.sqlite3*"):
            leftover.unlink()
        DemoPinCounter(settings.paths.demo_dir / DEMO_TRIES_FILE).reset()  # the demo CPS too
    if getattr(args, "pcsc", False):
        from proclient.wiring import pcsc_demo_wiring

        wiring = pcsc_demo_wiring(settings)
        if getattr(args, "offline", False):
            wiring.network.cut = True
    else:
        wiring = demo_wiring(settings, offline=getattr(args, "offline", False))
    app = ProclientApp(wiring)
    app.run()
    return EXIT_ERROR if app.return_code else EXIT_OK  # an unexpected error: not 0
