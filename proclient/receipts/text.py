"""Plain-text rendering of the accusé de création, for a preview in the terminal.

It renders the same :class:`~proclient.receipts.content.Document` as the PDF, so the preview
and the printed receipt never diverge. Two shapes, like the PDF: the A4 page (a label column,
lines of at most ``WIDTH`` characters) and the 80 mm roll (label then value, lines of at most
``ROLL_WIDTH`` characters, about what a thermal printer puts on a line).
"""

from __future__ import annotations

import textwrap

from proclient.core.records import CreationReceipt, RecordedSlip
from proclient.receipts.content import Document, Row, receipt_content

WIDTH = 64
ROLL_WIDTH = 42
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


def _roll_row(row: Row) -> list[str]:
    if row.secret:  # alone on its line, never wrapped into the label
        return [*_wrap(row.label + " :", ROLL_WIDTH), row.value.center(ROLL_WIDTH).rstrip()]
    return _wrap(f"{row.label} : {row.value}", ROLL_WIDTH, "", "  ")


def _centered(text: str, width: int) -> list[str]:
    return [line.center(width).rstrip() for line in _wrap(text, width)]


def render_text(doc: Document, page: str = "a4") -> str:
    """Any :class:`Document` as text, shaped like its ``page`` ("a4" or "80mm")."""
    roll = page == "80mm"
    width = ROLL_WIDTH if roll else WIDTH
    rule = "=" * width
    banner = _centered(f"*** {doc.banner} ***", width) if doc.banner else []
    lines = [rule, *_centered(doc.title, width), rule, *banner]
    for section in doc.sections:
        lines += ["", section.title.upper(), "-" * min(width, len(section.title))]
        for row in section.rows:
            lines += _roll_row(row) if roll else _row(row)
        for note in section.notes:
            lines += _wrap(note, width, "  - ", "    ")
        if section.qr:
            lines += _wrap(section.qr, width, "  ")
    if doc.footer:
        lines.append("")
        for line in doc.footer:
            lines += _wrap(line, width)
    if banner:
        lines += ["", *banner]
    return "\n".join(lines) + "\n"


def receipt_text(receipt: CreationReceipt, page: str = "a4") -> str:
    """The accusé de création as plain text, shaped like the printed ``page``."""
    return render_text(receipt_content(receipt), page)


def slip_text(slip: RecordedSlip, page: str = "a4") -> str:
    """The slip of a creation recorded offline, as plain text (the screen's preview)."""
    from proclient.receipts.content import slip_content

    return render_text(slip_content(slip), page)
