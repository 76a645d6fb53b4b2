"""A checkbox whose state reads without colour: ``[x]`` or ``[ ]``, and optionally a word.

Textual's Checkbox draws ``▐X▌`` ticked or not, only the shade of the X differs: with
``NO_COLOR`` or a plain ``TERM=xterm`` both states look the same. A consent or an emergency
access is the legal heart of the flow, so its state is drawn in distinct glyphs and, for the
emergency accesses, in words ("autorisé" / "refusé"). The label wraps on a narrow terminal
instead of being cut.
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Size
from textual.widgets import Checkbox

from proclient.core.i18n import _

TICKED, UNTICKED = "[x]", "[ ]"


class TickBox(Checkbox):
    """A Checkbox drawn ``[x] label`` / ``[ ] label``, with ``on_word``/``off_word`` after the
    label when given (e.g. "autorisé" / "refusé")."""

    DEFAULT_CSS = """
    TickBox { width: 1fr; height: auto; text-wrap: wrap; text-overflow: fold; }
    /* Textual draws the unticked box dark on the panel (1.4:1, black on black in greys):
       both boxes take the text's colour, the ticked one in bold green. */
    TickBox > .toggle--button { color: $foreground; background: transparent; }
    TickBox.-on > .toggle--button { color: $text-success; background: transparent;
                                    text-style: bold; }
    """

    def __init__(
        self, label: str, value: bool = False, *, on_word: str = "", off_word: str = "", **kwargs
    ) -> None:
        self._on_word, self._off_word = on_word, off_word
        super().__init__(label, value, **kwargs)

    @property
    def state_text(self) -> str:
        """The state in plain text: the glyphs, the label and the word."""
        return self._text().plain

    @property
    def _button(self) -> Content:
        return Content.styled(
            TICKED if self.value else UNTICKED, self.get_visual_style("toggle--button")
        )

    def _word(self) -> str:
        return self._on_word if self.value else self._off_word

    def _text(self) -> Content:
        label = self._label
        word = self._word()
        if word:
            label = Content.assemble(label, _(" : "), word)  # French: a space before the colon
        return Content.assemble(self._button, " ", label)

    def render(self) -> Content:
        button = self._button
        label = self._label
        word = self._word()
        if word:
            label = Content.assemble(label, _(" : "), (word, "bold"))
        label = label.stylize_before(self.get_visual_style("toggle--label"))
        return Content.assemble(button, " ", label)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self._text().cell_length

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._text().wrap(max(1, width))))

    def watch_value(self) -> None:
        super().watch_value()
        self.refresh(layout=True)  # the word's length changes with the state
