"""Colours as Textual paints them, and their WCAG 2 contrast (tests/tui/test_contrast.py,
tests/tui/test_no_color.py).

Two readings: :func:`paint` resolves a theme's CSS colour expression over what lies beneath
it (alpha, ``auto`` text, tints) with Textual's own ``Color`` arithmetic; :func:`glyphs` reads
what a mounted widget actually draws (Textual's ``render_lines``: solid colours, and the greys
of ``NO_COLOR`` when it is set).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.style import Style
from textual.color import Color
from textual.geometry import Region
from textual.widget import Widget

AA_TEXT = 4.5  # WCAG 2 AA, 1.4.3: text
AA_GRAPHICS = 3.0  # WCAG 2 AA, 1.4.11: a frame, a scrollbar, an arrow (not words)


def luminance(color: Color) -> float:
    """WCAG 2 relative luminance of an opaque colour."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = color.rgb
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: Color, second: Color) -> float:
    """WCAG 2 contrast ratio, from 1 (none) to 21 (black on white)."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colour(expression: str, variables: dict[str, str]) -> Color:
    """A CSS colour expression of the theme (``$text-muted``, ``$accent 30%``, ``auto 87%``,
    ``#1E1E1E``) as a Textual Color, alpha and ``auto`` kept for :func:`paint`."""
    value, *percent = expression.split()
    while value.startswith("$"):  # a variable: "auto 87%", "#RRGGBBAA", "transparent"…
        value, *inner = variables[value[1:]].split()
        percent = percent or inner
    alpha = float(percent[0].rstrip("%")) / 100 if percent else 1.0
    if value == "auto":  # Textual's contrast text: white or black, chosen on what is beneath
        return Color(255, 255, 255, alpha, auto=True)
    return Color.parse(value).multiply_alpha(alpha)


def paint(layers, variables: dict[str, str]) -> Color:
    """What the terminal shows for colours laid one over the other, bottom first; a layer is
    an expression or a (background, tint) pair, as CSS ``background-tint`` does."""
    shown = Color(0, 0, 0)
    for layer in layers:
        if isinstance(layer, tuple):
            background, tint = layer
            shown += colour(background, variables).tint(colour(tint, variables))
        else:
            shown += colour(layer, variables)
    return shown


@dataclass(frozen=True)
class Glyph:
    """A run of characters one widget draws in one style."""

    widget: Widget
    text: str
    foreground: Color
    background: Color
    style: Style

    @property
    def ratio(self) -> float:
        return contrast(self.foreground, self.background)

    @property
    def minimum(self) -> float:
        """Words need 4.5:1; box drawing, blocks and arrows (frames, scrollbars) 3:1."""
        graphic = all("\u2500" <= c <= "\u25ff" or c.isspace() for c in self.text)
        return AA_GRAPHICS if graphic else AA_TEXT

    def __str__(self) -> str:
        return (
            f"{type(self.widget).__name__}#{self.widget.id or ''} {self.text.strip()[:40]!r}: "
            f"{self.foreground.hex6} on {self.background.hex6} = {self.ratio:.2f}:1"
        )


def drawn(widget: Widget) -> list:
    """The lines of a widget as Textual hands them to the terminal: frame, padding and
    content, after its filters (the greys of ``NO_COLOR``)."""
    return widget.render_lines(Region(0, 0, *widget.outer_size))


def line_glyphs(widget: Widget, y: int) -> Iterator[Glyph]:
    """The visible characters of one line of ``widget``, with the colours the user sees
    (reverse video swapped)."""
    for segment in drawn(widget)[y]:
        style = segment.style
        if not segment.text.strip() or style is None or segment.control:
            continue
        foreground = Color.from_rich_color(style.color) if style.color else None
        background = Color.from_rich_color(style.bgcolor) if style.bgcolor else None
        assert foreground and background, f"no colour for {segment.text!r} in {widget}"
        if style.reverse:
            foreground, background = background, foreground
        yield Glyph(widget, segment.text, foreground, background, style)


def glyphs(screen) -> Iterator[Glyph]:
    """Every visible character of a screen, widget by widget (frames and padding included)."""
    for widget in screen.walk_children():  # not the screen: a modal draws the dimmed one below
        if not widget.display or not widget.visible or not widget.region:
            continue
        for y in range(widget.outer_size.height):
            yield from line_glyphs(widget, y)


def without_colour(widget: Widget, y: int = 0) -> list[tuple[str, tuple[bool, ...]]]:
    """One line of a widget as a terminal without colour shows it: each character with its
    attributes (bold, underline, reverse, italic), colours dropped."""
    cells = []
    for segment in drawn(widget)[y]:
        style = segment.style or Style()
        attributes = tuple(
            bool(a) for a in (style.bold, style.underline, style.reverse, style.italic)
        )
        cells.extend((character, attributes) for character in segment.text)
    return cells
