"""Textual's command palette in the UI language: its search prompt and its « nothing found »
line (Textual writes « No matches found » in English whatever the language)."""

from __future__ import annotations

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

from proclient.core.i18n import _
from proclient.widgets.modal import SafeDismiss


class Palette(SafeDismiss, CommandPalette):
    """Closes once, like the application's own modals (fast hands: fuzz/key_burst.py found
    a second Enter popping the screen under it)."""

    def __init__(self) -> None:
        super().__init__(id="--command-palette", placeholder=_("Rechercher une commande…"))

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual's own, with the sentence translated (it has no setting for it).
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(_("Aucune commande trouvée"), style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)
