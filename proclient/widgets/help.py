"""F1: a short help for the current screen and the keys it answers to."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from proclient.core.i18n import _
from proclient.widgets.modal import Modal


def key_lines(screen: Screen) -> list[str]:
    """The application's keys on ``screen`` with what they do: the bindings with an id (the
    ones ``[keys]`` can remap), not Textual's own (focus, copy, palette)."""
    lines, seen = [], set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if active.node not in (screen, screen.app) or not binding.description or not binding.id:
            continue
        if not active.enabled or binding.action == "command_palette":
            continue
        if binding.description in seen:
            continue
        seen.add(binding.description)
        lines.append(f"{screen.app.get_key_display(binding):>8}  {binding.description}")
    palette = screen.app.get_key_display(Binding(screen.app.COMMAND_PALETTE_BINDING, ""))
    everything = _("Toutes les commandes (palette)")  # not inside the f-string: extracted
    lines.append(f"{palette:>8}  {everything}")
    return lines


class HelpModal(Modal):
    BINDINGS = [Binding("escape,enter,f1", "dismiss(None)", _("Fermer"), id="close_help")]
    DEFAULT_CSS = """
    HelpModal { align: center middle; }
    HelpModal > VerticalScroll { width: 76; max-width: 100%; height: auto; max-height: 100%;
                                 border: round $accent; padding: 0 1; background: $surface; }
    HelpModal #help-title { text-style: bold; }
    HelpModal #help-keys { margin-top: 1; }
    """

    def __init__(self, title: str, text: str, screen: Screen) -> None:
        super().__init__()
        self._title, self._text = title, text
        self._keys = key_lines(screen)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(_("Aide — {where}", where=self._title), id="help-title", markup=False)
            if self._text:
                yield Static(self._text, id="help-text", markup=False)
            yield Static("\n".join(self._keys), id="help-keys", markup=False)
            yield Static(_("Échap ferme l'aide."), classes="hint")
