"""The paper side of the application: the accusé saved and printed, the secrets sheet
printed or shown (never saved), the journal of past accusés. Mixed into ProclientApp."""

from __future__ import annotations

import logging
from pathlib import Path

from textual import work

from proclient.domain import CreationReceipt, DomainError, SecretsSheet
from proclient.i18n import _
from proclient.logsafe import UNEXPECTED, log_unexpected

log = logging.getLogger("proclient.app")


class ReceiptActionsMixin:
    """Needs ``wiring``, ``notify``, ``call_from_thread``, ``push_screen`` and the attributes
    ``_secrets``, ``_receipt``, ``_receipt_path`` and ``last_print_job`` of the app."""

    def _write_receipt(self, receipt: CreationReceipt) -> tuple[Path | None, str, str]:
        from proclient.receipts.pdf import render_receipt
        from proclient.receipts.store import save_receipt
        from proclient.receipts.text import receipt_text

        page = self.wiring.receipt_format
        preview = receipt_text(receipt, page)
        try:
            pdf = render_receipt(receipt, page=page)
            path = save_receipt(pdf, receipt, self.wiring.receipts_dir, page)
        except OSError:
            log_unexpected(log, "receipt not saved")
            return None, preview, _(
                "L'accusé de création n'a pas pu être enregistré dans {dir} : vérifiez les "
                "droits et l'espace disque.", dir=self.wiring.receipts_dir)
        return path, preview, ""

    @work(thread=True, exclusive=True, group="secrets", exit_on_error=False)
    def print_secrets_sheet(self) -> None:
        """The sheet goes to the printer through lp's standard input: no file, ever (HOM 112)."""
        sheet = self._secrets
        if sheet is None:
            return
        from proclient.receipts.pdf import render_secrets
        from proclient.receipts.printing import print_pdf

        try:
            job = print_pdf(render_secrets(sheet, page=self.wiring.receipt_format,
                                           demo=self.wiring.demo), self.wiring.printer)
        except DomainError as error:
            # Never offer to save this sheet (HOM 112): the screen is the only fallback.
            message = _("{error} La feuille de codes n'est jamais enregistrée : F7 l'affiche "
                        "à l'écran.", error=error.message)
            self.call_from_thread(self.notify, message, severity="error", timeout=15)
            return
        except Exception:
            log_unexpected(log, "secrets sheet not printed")
            self.call_from_thread(self.notify, _(UNEXPECTED), severity="error")
            return
        self.last_print_job = job
        self.call_from_thread(self.notify, _("Feuille de codes envoyée à l'imprimante (tâche {job}).", job=job))

    @work(thread=True, exclusive=True, group="print-receipt", exit_on_error=False)
    def print_receipt(self, path: Path | None = None) -> None:
        """Print the accusé just made (or, with ``path``, one from the journal) through CUPS.

        The accusé is saved before it is printed: when printing fails, the file stays."""
        from proclient.receipts.pdf import render_receipt
        from proclient.receipts.printing import print_pdf

        path = path or self._receipt_path
        try:
            if path is not None:
                pdf = path.read_bytes()
            elif self._receipt is not None:
                pdf = render_receipt(self._receipt, page=self.wiring.receipt_format)
            else:
                return
            job = print_pdf(pdf, self.wiring.printer)
        except DomainError as error:
            where = (_("L'accusé reste enregistré : {path}", path=path) if path
                     else _("Il n'a pas pu être enregistré non plus."))
            self.call_from_thread(self.notify, f"{error.message} {where}", severity="error",
                                  timeout=15)
            return
        except OSError:
            log_unexpected(log, "receipt not read for printing")
            self.call_from_thread(self.notify, _("L'accusé enregistré est illisible : {path}",
                                                 path=path), severity="error", timeout=15)
            return
        except Exception:
            log_unexpected(log, "receipt not printed")
            self.call_from_thread(self.notify, _(UNEXPECTED), severity="error")
            return
        self.last_print_job = job
        self.call_from_thread(self.notify, _("Accusé envoyé à l'imprimante (tâche {job}).",
                                             job=job))

    @work(thread=True, exclusive=True, group="journal", exit_on_error=False)
    def load_journal(self, screen) -> None:
        """Read the receipts directory (names only, never the PDFs) for the journal screen."""
        from proclient.receipts.journal import entries

        try:
            found, error = entries(self.wiring.receipts_dir), ""
        except OSError:
            log_unexpected(log, "journal not read")
            found, error = [], _("Le journal des accusés est illisible : vérifiez les droits "
                                 "de {dir}.", dir=self.wiring.receipts_dir)
        self.call_from_thread(screen.show_entries, found, error)

    def open_journal(self) -> None:
        from proclient.screens.journal import JournalScreen

        self.push_screen(JournalScreen())

    @property
    def secrets_sheet(self) -> SecretsSheet | None:
        return self._secrets
