"""`proclient virtual-card`: a demo card in a real pcscd slot through vpcd, until Ctrl+C.

For trainers and CI: the application (or any PC/SC program) then reads it like a real card.
"""

from __future__ import annotations

from proclient.core.i18n import _

NAME = "virtual-card"
HELP = _("insère une carte virtuelle (démo) dans un lecteur vpcd de pcscd")

FAULTS = ("none", "t0", "wrong-le", "garbage", "truncated")


def configure(parser) -> None:
    from proclient.cardreader.vpcd import DEFAULT_HOST, PATIENT_PORT

    parser.add_argument(
        "--card",
        default="legoff",
        help=_("legoff, durand, casanova, bensaid, vitale1, cps3 ou cps4"),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=PATIENT_PORT,
        help=_("port du lecteur vpcd (35963 : patient, 35964 : professionnel)"),
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=_("adresse de pcscd (vpcd)"))
    parser.add_argument(
        "--fault",
        choices=FAULTS,
        default="none",
        help=_("une carte qui se comporte mal, pour les essais"),
    )
    parser.add_argument(
        "--pull-at", type=int, metavar="N", help=_("la carte est retirée à la N-ième commande")
    )


def make_card(key: str, fault: str = "none", pull_at: int | None = None):
    """The virtual card named ``key`` with its fault (DomainError for an unknown name)."""
    from proclient.cardreader.cps_emulator import CpsEmulator
    from proclient.cardreader.demo_cards import DEMO_CARDS
    from proclient.cardreader.emulator import VITALE1_ATR, VitaleEmulator
    from proclient.cardreader.faults import GarbageCard, truncated_card
    from proclient.core.domain import DomainError

    if key in ("cps3", "cps4"):
        return CpsEmulator(int(key[-1]))
    demo = "legoff" if key == "vitale1" else key
    if demo not in DEMO_CARDS:
        raise DomainError(
            "USAGE",
            _(
                "Carte inconnue « {key} » : choisissez parmi {known}.",
                key=key,
                known=", ".join((*DEMO_CARDS, "vitale1", "cps3", "cps4")),
            ),
        )
    if fault == "truncated":
        return truncated_card(demo)
    options: dict = {"pull_at": pull_at}
    if key == "vitale1":
        options["atr"] = VITALE1_ATR
    if fault == "t0":
        options.update(t0_mode=True, t0_chunk=64)
    elif fault == "wrong-le":
        options["wrong_le"] = True
    card = VitaleEmulator.from_demo(demo, **options)
    return GarbageCard(card, at=2) if fault == "garbage" else card


def run(args, settings) -> int:
    import signal
    import sys
    import threading

    from proclient.cardreader.vpcd import VpcdBridge
    from proclient.commands import EXIT_NO_READER, EXIT_OK

    bridge = VpcdBridge(make_card(args.card, args.fault, args.pull_at), args.port, args.host)
    try:
        bridge.insert(timeout=3)
    except OSError:
        print(
            _(
                "Aucun lecteur vpcd sur {host}:{port} : lancez pcscd avec le pilote vpcd "
                "(paquet vsmartcard-vpcd), puis réessayez.",
                host=args.host,
                port=args.port,
            ),
            file=sys.stderr,
        )
        return EXIT_NO_READER
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_args: stop.set())
    print(
        _(
            "Carte « {card} » insérée (port {port}) ; Ctrl+C pour la retirer.",
            card=args.card,
            port=args.port,
        ),
        flush=True,
    )
    while not stop.is_set() and bridge.inserted:
        stop.wait(0.2)
    bridge.remove()
    print(_("Carte retirée."), flush=True)
    return EXIT_OK
