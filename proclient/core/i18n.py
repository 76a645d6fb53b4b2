"""The one translation function for everything a user reads.

Source strings are the French text (the product's language); the gettext catalogue
``proclient/locale/en/LC_MESSAGES/proclient.mo`` translates them to English. The language is
``[ui] language`` of the settings, else the session's ``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/
``LANG``, else French. ``proclient.cli.main`` chooses it before importing any module that
translates at import time (key labels of ``BINDINGS``, the sub-commands' help).

Receipts are French legal documents: they are built inside :func:`french`, which makes ``_``
answer in French whatever the UI language (per thread of execution, through a context
variable). Catalogues: ``scripts/i18n.sh`` (extract, update, compile, check).
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

LOCALE_DIR = Path(__file__).parent.parent / "locale"
DOMAIN = "proclient"
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
# Read in this order, the first one set wins, as GNU gettext and Python's gettext.find do.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_FRENCH = gettext.NullTranslations()  # the source text is French: nothing to look up


def _catalogue(language: str) -> gettext.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return _FRENCH
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def language_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The session's language among ours (``en_GB.UTF-8`` → ``en``), or None.

    ``LANGUAGE`` may list several (``de:en``); ``C``/``POSIX`` means no preference.
    """
    environ = os.environ if environ is None else environ
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable)
        if not value:
            continue
        for item in value.split(":"):
            code = item.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
            if code in ("c", "posix"):
                return None
            if code in LANGUAGES:
                return code
        return None
    return None


def choose_language(setting: str | None, environ: Mapping[str, str] | None = None) -> str:
    """``[ui] language`` when set, else the session's language, else French."""
    if setting in LANGUAGES:
        return setting
    return language_from_environment(environ) or DEFAULT_LANGUAGE


_language = choose_language(None)
_active = _catalogue(_language)
_override: ContextVar[gettext.NullTranslations | None] = ContextVar("proclient_i18n", default=None)


def use_language(language: str) -> None:
    """Make ``language`` the UI language from now on (strings already translated stay)."""
    global _language, _active
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    _language = language
    _active = _catalogue(language)


def current_language() -> str:
    """The UI language (``fr`` or ``en``), French inside :func:`french`."""
    return DEFAULT_LANGUAGE if _override.get() is not None else _language


def translation() -> gettext.NullTranslations:
    """The UI language's gettext object (``gettext``, ``ngettext``)."""
    return _override.get() or _active


@contextmanager
def french() -> Iterator[None]:
    """Within the block (or the decorated function), ``_`` answers in French."""
    token = _override.set(_FRENCH)
    try:
        yield
    finally:
        _override.reset(token)


def _(message: str, /, **values: object) -> str:
    """Translate ``message`` and fill its ``{named}`` fields."""
    text = (_override.get() or _active).gettext(message)
    return text.format(**values) if values else text


def N_(message: str, /) -> str:  # noqa: N802 (the gettext convention)
    """Mark ``message`` for extraction only: it is translated later, where it is shown."""
    return message
