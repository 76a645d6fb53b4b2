"""The one translation function for everything a user reads.

Source strings are the French text (the product's language); a gettext catalogue under
``proclient/locale`` may translate them later. With no catalogue the French is returned.
"""

from __future__ import annotations

import gettext
from pathlib import Path

_LOCALE_DIR = Path(__file__).parent / "locale"
_translation = gettext.translation("proclient", localedir=_LOCALE_DIR, fallback=True)


def _(message: str, /, **values: object) -> str:
    """Translate ``message`` and fill its ``{named}`` fields."""
    text = _translation.gettext(message)
    return text.format(**values) if values else text
