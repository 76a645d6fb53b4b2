"""The command palette (Ctrl+P): the application's own actions, in the UI language, those of
the screen on top first."""

from __future__ import annotations

from collections.abc import Iterator

from textual.screen import Screen

from proclient.core.i18n import _
from proclient.routes.desk import Desk


def commands(desk: Desk, screen: Screen) -> Iterator[tuple[str, str, str]]:
    """(title, help, action) of each command offered over ``screen``."""
    from proclient.screens.done import DoneScreen
    from proclient.screens.home import HomeScreen

    home, done = isinstance(screen, HomeScreen), isinstance(screen, DoneScreen)
    demo, network = desk.wiring.deck is not None, desk.wiring.network is not None
    for shown, action, title, help_text in (
        (True, "screen.help", _("Aide de l'écran"), _("Ce que fait cet écran et ses touches (F1)")),
        (
            home,
            "screen.journal",
            _("Journal des accusés"),
            _("Réimprimer un accusé enregistré sur ce poste (F9)"),
        ),
        (
            home,
            "screen.manual_entry",
            _("Saisie manuelle de l'identité"),
            _("Vitale 1, carte oubliée ou illisible (F6)"),
        ),
        (
            home,
            "screen.reread",
            _("Relire la carte Vitale"),
            _("Lire à nouveau la carte du lecteur patient (F5)"),
        ),
        (
            done,
            "screen.print_receipt",
            _("Imprimer l'accusé"),
            _("Envoyer l'accusé à l'imprimante (F5)"),
        ),
        (
            done and desk.paper.secrets is not None,
            "screen.print_secrets",
            _("Imprimer la feuille de codes"),
            _("Identifiant et mot de passe provisoire, jamais enregistrés (F6)"),
        ),
        (
            demo,
            "app.toggle_demo_cps",
            _("Retirer ou remettre la CPS"),
            _("Démonstration : comme retirer la carte du professionnel (F4)"),
        ),
        (
            network,
            "app.toggle_demo_network",
            _("Couper ou rétablir le réseau"),
            _("Démonstration : le service DMP devient injoignable, ou revient (F12)"),
        ),
        (
            demo,
            "app.remove_demo_card",
            _("Retirer la carte Vitale"),
            _("Démonstration : comme retirer la carte du patient (F3)"),
        ),
        (True, "app.quit", _("Quitter"), _("Fermer proclient (Ctrl+Q)")),
    ):
        if shown:
            yield title, help_text, action
