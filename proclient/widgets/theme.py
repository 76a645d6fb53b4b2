"""proclient's colours, and the cues that make focus and selection read without colour.

The theme is Textual's dark one with four changes, each for WCAG AA (4.5:1 for text, 3:1 for
a focus border), measured on the colours Textual generates from it (tests/tui/test_contrast.py
prints the table):

- a darker blue ``primary``: the top bar and the highlighted row of a list write light text
  on it (Textual's #0178D4 gives 3.8:1);
- a lighter red ``error``: the error line is written in it on the background (3.4:1 before);
- ``border``, the focused widget's frame, keeps a light blue of its own, since the darker
  primary would fall under 3:1 on the surface;
- the highlighted row of a list without the focus is underlined, not only tinted.

:data:`READABLE_CSS` carries what a theme cannot say. Hints written in fields (placeholders,
the prompt of a closed list) get the muted text's contrast instead of Textual's 3.5:1, and
italics. Focus and selection read in attributes, not in colour alone: a focused field or
closed list (Select) is underlined across its width (before, only the blinking cursor showed
it); the highlighted row of the focused list and the focused tick box's label are bold, the
highlighted row of a list without the focus is underlined. With ``NO_COLOR`` Textual draws in
greys (its Monochrome filter): the focused list's row and the focused tick box's label are then
a light bar with dark text, so that the cursor stands out from the other rows.
"""

from __future__ import annotations

from textual.app import App
from textual.theme import Theme

THEME_NAME = "proclient"

PROCLIENT_THEME = Theme(
    name=THEME_NAME,
    primary="#1B5FA8",
    secondary="#1B5FA8",
    accent="#FFA62B",
    warning="#FFA62B",
    error="#FF6B6B",
    success="#4EBF71",
    foreground="#E0E0E0",
    background="#121212",
    surface="#1E1E1E",
    dark=True,
    variables={
        "border": "#4A9EFF",
        "block-cursor-text-style": "bold",
        "block-cursor-blurred-text-style": "underline",
    },
)

READABLE_CSS = """
Input > .input--placeholder, Input > .input--suggestion {
    color: $text-muted;
    text-style: italic;
}
SelectCurrent Static#label { color: $text-muted; }
SelectCurrent.-has-value Static#label { color: $foreground; }
Input:focus, Select:focus > SelectCurrent { text-style: underline; }
/* Without colour, the cursor of the focused list or tick box in inverse video. In colours:
   Textual's component styles drop ``reverse``. */
OptionList:nocolor:focus > .option-list--option-highlighted,
ToggleButton:nocolor:focus > .toggle--label {
    color: $background;
    background: $foreground;
}
"""


def apply_theme(app: App) -> None:
    """Register and select proclient's theme, and add its cues; call in the App's __init__."""
    app.register_theme(PROCLIENT_THEME)
    app.theme = THEME_NAME
    app.stylesheet.add_source(READABLE_CSS, read_from=(__file__, "READABLE_CSS"))
