"""The accusé de création (PDF and text preview) and the separate secrets sheet.

reportlab is imported only when a PDF is rendered: importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proclient.receipts.store import receipt_filename, save_receipt
from proclient.receipts.text import receipt_text

if TYPE_CHECKING:
    from proclient.core.records import CreationReceipt, SecretsSheet

__all__ = ["receipt_filename", "receipt_text", "render_receipt", "render_secrets", "save_receipt"]


def render_receipt(
    receipt: CreationReceipt, page: str = "a4", proof_line: str | None = None
) -> bytes:
    """The accusé de création as PDF bytes (``page``: "a4" or "80mm"; ``proof_line``: the
    closing line saying whether it is signed)."""
    from proclient.receipts.pdf import render_receipt as render

    return render(receipt, page, proof_line)


def render_secrets(sheet: SecretsSheet, page: str = "a4", *, demo: bool = False) -> bytes:
    """The secrets sheet as PDF bytes, to print; never to be stored (HOM 112)."""
    from proclient.receipts.pdf import render_secrets as render

    return render(sheet, page, demo=demo)
