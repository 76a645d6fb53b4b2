"""The footer of every screen: all its keys, on two or three lines when one is too narrow.

Textual's footer is one line that scrolls sideways: at 60 columns the last keys of the home
and done screens fell off the right edge, and nothing on screen named them. This one keeps
Textual's keys and lays them out as a grid of as few lines as the width allows (columns as
wide as their widest key). Textual's own English descriptions (the open list's Esc) are
translated like ours.
"""

from __future__ import annotations

from math import ceil

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from proclient.core.i18n import N_, _

# Descriptions Textual gives its own bindings, shown in our footer when such a widget has the
# focus (an open Select list). Keys: Textual's text; values: ours, translated.
TEXTUAL_DESCRIPTIONS = {
    "Dismiss menu": N_("Fermer la liste"),
    "palette": N_("Commandes"),
}

MAX_LINES = 3
GUTTER = 1  # columns between two keys


class KeyFooter(Footer):
    """Every key of the screen, on as few lines as the width allows (at most three)."""

    DEFAULT_CSS = """
    KeyFooter.-wrapped { layout: grid; grid-columns: auto; grid-gutter: 0 1; height: auto; }
    KeyFooter.-wrapped FooterKey { margin: 0; }
    """

    def __init__(self, *, compact: bool = True, show_command_palette: bool = False) -> None:
        super().__init__(compact=compact, show_command_palette=show_command_palette)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description in TEXTUAL_DESCRIPTIONS:
                widget.description = _(TEXTUAL_DESCRIPTIONS[widget.description])
            yield widget

    def on_mount(self) -> None:
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self._fit()

    async def recompose(self) -> None:
        await super().recompose()
        self._fit()

    def _fit(self) -> None:
        width = self.screen.size.width if self.is_attached else self.size.width
        keys = [_key_width(key) for key in self.query(FooterKey)]
        columns = _columns_for(keys, width)
        if columns >= len(keys):
            self.remove_class("-wrapped")
            self.styles.height = 1
        else:
            self.add_class("-wrapped")
            self.styles.grid_size_columns = columns
            self.styles.height = ceil(len(keys) / columns)


def _key_width(key: FooterKey) -> int:
    """Columns a compact key takes: "f10 Quitter"."""
    if not key.description:
        return len(key.key_display)
    return len(key.key_display) + 1 + len(key.description)


def _line_width(widths: list[int], columns: int) -> int:
    """Width of a grid of ``columns`` columns, each as wide as its widest key."""
    column_widths = [max(widths[c::columns]) for c in range(columns) if widths[c::columns]]
    return sum(column_widths) + GUTTER * (len(column_widths) - 1)


def _columns_for(widths: list[int], room: int) -> int:
    """As many columns as fit in ``room`` (all the keys on one line when they fit)."""
    if not widths or sum(widths) + len(widths) <= room:  # one line: a margin after each key
        return max(len(widths), 1)
    least = ceil(len(widths) / MAX_LINES)
    for columns in range(len(widths) - 1, least - 1, -1):
        if _line_width(widths, columns) <= room:
            return columns
    return least
