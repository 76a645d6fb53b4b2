"""Plain-text rendering of the accusé de création, for a preview in the terminal.

It renders the same :class:`~proclient.receipts.content.Document` as the PDF, so the preview
and the printed receipt never diverge. Every line is at most ``WIDTH`` characters.
"""

from __future__ import annotations

import textwrap

from proclient.domain import CreationReceipt
from proclient.receipts.content import Document, Row, receipt_content

WIDTH = 64
_LABEL = 26  # label column, values start after it
_INDENT = "  "


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=True,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _row(row: Row) -> list[str]:
    pad = " " * (len(_INDENT) + _LABEL)
    label = f"{_INDENT}{row.label}"
    if len(label) + 1 > len(pad):
        # A long label on its own line(s), its value aligned in the value column below.
        lines = _wrap(row.label, WIDTH, _INDENT, _INDENT + "  ")
        return lines + _wrap(row.value, WIDTH, pad, pad)
    return _wrap(row.value, WIDTH, label.ljust(len(pad)), pad)


def _centered(text: str) -> list[str]:
    return [line.center(WIDTH).rstrip() for line in _wrap(text, WIDTH)]


def render_text(doc: Document) -> str:
    """Any :class:`Document` as text lines of at most ``WIDTH`` characters."""
    rule = "=" * WIDTH
    banner = _centered(f"*** {doc.banner} ***") if doc.banner else []
    lines = [rule, *_centered(doc.title), rule, *banner]
    for section in doc.sections:
        lines += ["", section.title.upper(), "-" * min(WIDTH, len(section.title))]
        for row in section.rows:
            lines += _row(row)
        for note in section.notes:
            lines += _wrap(note, WIDTH, "  - ", "    ")
    if doc.footer:
        lines.append("")
        for line in doc.footer:
            lines += _wrap(line, WIDTH)
    if banner:
        lines += ["", *banner]
    return "\n".join(lines) + "\n"


def receipt_text(receipt: CreationReceipt) -> str:
    """The accusé de création as plain text (lines of at most 64 characters)."""
    return render_text(receipt_content(receipt))
