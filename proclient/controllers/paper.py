"""The paper side: the accusé saved and printed, the secrets sheet printed (never saved), the
journal of past accusés.

The accusé is saved before it is printed: when printing fails, the file stays. The secrets
sheet (login and initial password) goes to the printer through lp's standard input or on
screen, never to a file (HOM 112), and leaves memory with the next patient.
The accusé is signed by the professional's card (PAdES B-B, receipts/signing.py) through the
credential's open session, before it is saved: the file saved and printed is the signed one.
Without a card to sign with (an e-CPS session) or when the card cannot sign, the accusé is
saved unsigned and says so in a line: never signed by anything else.
All methods here block (PDF rendering, the card's signature, files, ``lp``): the App runs
them in threads.
"""

from __future__ import annotations

import logging
from pathlib import Path

from proclient.core.domain import DomainError, mask_email, mask_mobile
from proclient.core.i18n import _
from proclient.core.logsafe import log_unexpected
from proclient.core.records import (
    CreationReceipt,
    CreationRequest,
    CreationResult,
    RecordedSlip,
    SecretsSheet,
)

log = logging.getLogger(__name__)


class PaperController:
    def __init__(
        self,
        receipts_dir: Path,
        page: str,
        printer: str | None = None,
        auto_print: bool = False,
        demo: bool = False,
    ) -> None:
        self.receipts_dir = receipts_dir
        self.page = page
        self.printer = printer
        self.auto_print = auto_print
        self.demo = demo
        self.receipt: CreationReceipt | None = None
        self.receipt_path: Path | None = None
        self.secrets: SecretsSheet | None = None
        self.secrets_handed = False
        """The sheet was printed or shown: leaving it behind is the professional's choice."""
        self.slip: RecordedSlip | None = None
        self.last_job = ""
        self.signed = False
        """The last accusé made here carries the professional's signature."""
        self._pdf: bytes | None = None  # the last accusé made, to print when it was not saved

    # --- the accusé --------------------------------------------------------------------------

    def issue(
        self, receipt: CreationReceipt, result: CreationResult, credential=None
    ) -> tuple[str, str]:
        """Keep the accusé (and the secrets sheet when the service issued a password), sign
        it with ``credential`` (the session's; None under e-CPS), save it; return its text
        preview and an error sentence ("" when saved and signed as it could be)."""
        from proclient.receipts.text import receipt_text

        self.receipt, self.receipt_path = receipt, None
        self.secrets = _secrets_sheet(receipt.request, result)
        self.secrets_handed = False
        preview = receipt_text(receipt, self.page)
        self._pdf, self.signed = None, False
        try:
            self._pdf, self.signed = self.render_signed(receipt, credential)
            self.receipt_path = self._save(self._pdf, receipt)
        except OSError:
            log_unexpected(log, "receipt not saved")
            return preview, _(
                "L'accusé de création n'a pas pu être enregistré dans {dir} : vérifiez les "
                "droits et l'espace disque.",
                dir=self.receipts_dir,
            )
        if credential is not None and not self.signed:
            return preview, _(
                "L'accusé est enregistré sans signature électronique : la carte CPS n'a pas "
                "pu le signer (il le dit sur la page)."
            )
        return preview, ""

    def _save(self, pdf: bytes, receipt: CreationReceipt) -> Path:
        from proclient.receipts.store import save_receipt

        return save_receipt(pdf, receipt, self.receipts_dir, self.page)

    def render_signed(self, receipt: CreationReceipt, credential=None) -> tuple[bytes, bool]:
        """The accusé's PDF signed by ``credential``'s card or key, and whether it could be;
        unsigned with the line saying why otherwise. Nothing here is kept: ``issue`` and
        ``file_receipt`` run in threads of their own, each for its own patient."""
        from proclient.receipts.content import signed_note, unsigned_note
        from proclient.receipts.pdf import render_receipt

        document_signer = getattr(credential, "document_signer", None)
        if credential is None or document_signer is None:
            reason = "ecps" if credential is None else "card"
            return render_receipt(receipt, self.page, unsigned_note(reason)), False
        if credential.professional.id_nat != receipt.professional.id_nat:
            return render_receipt(receipt, self.page, unsigned_note("other_card")), False
        from proclient.receipts.signing import sign_pdf

        pdf = render_receipt(receipt, self.page, signed_note(receipt.professional))
        try:
            with document_signer() as signer:
                return sign_pdf(pdf, signer), True
        except Exception:  # a card that cannot sign: the accusé goes unsigned, and says so
            log_unexpected(log, "accusé not signed")
            return render_receipt(receipt, self.page, unsigned_note("card")), False

    def file_receipt(self, receipt: CreationReceipt, credential=None) -> tuple[Path, str]:
        """An accusé made away from the screen (a creation recorded offline, sent later):
        saved (the same accusé saved again replaces the same file), then printed when the
        workstation prints by itself. Returns the path and the print job ("" when not
        printed, or when printing failed: the file stays and the failure is logged).
        Raises DomainError when it cannot be saved. ``credential`` signs it (see issue).
        The accusé on screen (``print_receipt``, ``signed``) stays the one ``issue`` made."""
        try:
            pdf, _signed = self.render_signed(receipt, credential)
            path = self._save(pdf, receipt)
        except OSError:
            log_unexpected(log, "receipt not saved")
            raise DomainError(
                "RECEIPT_NOT_SAVED",
                _(
                    "L'accusé de création n'a pas pu être enregistré dans {dir} : vérifiez les "
                    "droits et l'espace disque.",
                    dir=self.receipts_dir,
                ),
            ) from None
        job = ""
        if self.auto_print:
            from proclient.receipts.printing import print_pdf

            try:
                job = print_pdf(path.read_bytes(), self.printer)
            except (DomainError, OSError) as error:
                log.warning("receipt saved, not printed (%s)", getattr(error, "code", "OSError"))
        return path, job

    def issue_secrets(self, result: CreationResult) -> bool:
        """The secrets sheet for a password issued after the accusé (a reissue on the done
        screen); True when there is one now."""
        if self.receipt is None:
            return False
        self.secrets = _secrets_sheet(self.receipt.request, result)
        self.secrets_handed = False
        return self.secrets is not None

    def issue_new_password(self, patient_name: str, web, at) -> SecretsSheet:
        """The sheet of a new initial password asked for an existing DMP (step 2, the first
        sheet lost): no accusé, the e-mail and mobile unknown here."""
        assert web.initial_password
        self.secrets = SecretsSheet(patient_name, web.login, web.initial_password, at=at)
        self.secrets_handed = False
        return self.secrets

    @property
    def secrets_unseen(self) -> bool:
        """A codes sheet neither printed nor shown: leaving would lose it."""
        return self.secrets is not None and not self.secrets_handed

    def clear(self) -> None:
        """The next patient: the sheet, the slip and the accusé leave memory."""
        self.secrets = self.slip = None
        self.receipt = self.receipt_path = self._pdf = None
        self.secrets_handed = False

    # --- printing ----------------------------------------------------------------------------

    def print_receipt(self, path: Path | None = None) -> str:
        """Print the accusé just made (or, with ``path``, one from the journal); the job id.
        Raises DomainError with a French sentence saying where the accusé stays."""
        from proclient.receipts.printing import print_pdf

        path = path or self.receipt_path
        try:
            if path is not None:
                pdf = path.read_bytes()
            elif self._pdf is not None:  # made (and signed), not saved
                pdf = self._pdf
            else:
                raise DomainError("NO_RECEIPT", _("Aucun accusé à imprimer."))
            job = print_pdf(pdf, self.printer)
        except OSError:
            log_unexpected(log, "receipt not read for printing")
            raise DomainError(
                "RECEIPT_UNREADABLE", _("L'accusé enregistré est illisible : {path}", path=path)
            ) from None
        except DomainError as error:
            if error.code == "NO_RECEIPT":
                raise
            where = (
                _("L'accusé reste enregistré : {path}", path=path)
                if path
                else _("Il n'a pas pu être enregistré non plus.")
            )
            raise DomainError(error.code, f"{error.message} {where}") from None
        self.last_job = job
        return job

    # --- a creation recorded offline -----------------------------------------------------------

    def issue_slip(self, slip: RecordedSlip) -> str:
        """Keep the patient's slip (memory only) and return its text preview."""
        from proclient.receipts.text import slip_text

        self.slip = slip
        return slip_text(slip, self.page)

    def print_slip(self) -> str:
        """The slip goes to the printer through lp's standard input (never saved)."""
        from proclient.receipts.pdf import render_slip
        from proclient.receipts.printing import print_pdf

        if self.slip is None:
            raise DomainError("NO_SLIP", _("Aucun récépissé à imprimer."))
        job = print_pdf(render_slip(self.slip, page=self.page), self.printer)
        self.last_job = job
        return job

    def print_secrets(self) -> str:
        """The sheet goes to the printer through lp's standard input: no file, ever."""
        from proclient.receipts.pdf import render_secrets
        from proclient.receipts.printing import print_pdf

        sheet = self.secrets
        if sheet is None:
            raise DomainError("NO_SECRETS", _("Aucune feuille de codes à imprimer."))
        try:
            job = print_pdf(render_secrets(sheet, page=self.page, demo=self.demo), self.printer)
        except DomainError as error:
            # Never offer to save this sheet (HOM 112): the screen is the only fallback.
            raise DomainError(
                error.code,
                _(
                    "{error} La feuille de codes n'est jamais enregistrée : F7 l'affiche à "
                    "l'écran.",
                    error=error.message,
                ),
            ) from None
        self.last_job = job
        self.secrets_handed = True
        return job

    # --- the journal -------------------------------------------------------------------------

    def journal(self) -> list:
        """The accusés saved here, most recent first (names only, never the PDFs)."""
        from proclient.receipts.journal import entries

        try:
            return entries(self.receipts_dir)
        except OSError:
            log_unexpected(log, "journal not read")
            raise DomainError(
                "JOURNAL_UNREADABLE",
                _(
                    "Le journal des accusés est illisible : vérifiez les droits de {dir}.",
                    dir=self.receipts_dir,
                ),
            ) from None


def _secrets_sheet(request: CreationRequest, result: CreationResult) -> SecretsSheet | None:
    if not (result.web and result.web.initial_password):
        return None
    web = request.web_access
    return SecretsSheet(
        patient_name=request.patient.display_name,
        login=result.web.login,
        initial_password=result.web.initial_password,
        email_masked=mask_email(web.email) if web and web.email else None,
        mobile_masked=mask_mobile(web.mobile) if web and web.mobile else None,
        at=result.at,
    )
