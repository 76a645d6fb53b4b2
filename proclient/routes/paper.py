"""Paper: the accusé and the offline slip printed, the secrets sheet printed or shown (never
saved), the initial password asked again, the journal of the accusés saved here."""

from __future__ import annotations

from pathlib import Path

from proclient.core.i18n import N_, _
from proclient.messages import (
    JobFailed,
    JournalLoaded,
    JournalLoadRequested,
    JournalRequested,
    NewPasswordRequested,
    PasswordIssued,
    PasswordReissueRequested,
    ReceiptPrintRequested,
    SecretsPrintRequested,
    SecretsShowRequested,
    SlipPrintRequested,
)
from proclient.routes.desk import Desk, Route


class PaperRoute(Route):
    HANDLES = {
        ReceiptPrintRequested: "receipt_print_requested",
        SlipPrintRequested: "slip_print_requested",
        SecretsPrintRequested: "print_secrets",
        SecretsShowRequested: "show_secrets",
        PasswordReissueRequested: "reissue_password",
        JournalRequested: "open_journal",
        JournalLoadRequested: "load_journal",
        NewPasswordRequested: "new_password",
    }

    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self.paper = desk.paper

    def _print(self, name: str, call, sent: str) -> None:
        """Print in a thread; ``sent``: what to say (a message id, N_) with the job id."""
        self.jobs.run(
            name,
            call,
            thread=True,
            done=lambda job: self.stage.notify(_(sent, job=job)),
            failed=self._print_failed,
        )

    def _print_failed(self, failure: JobFailed) -> None:
        self.stage.notify(failure.message, "error", long=True)

    def print_receipt(self, path: Path | None = None) -> None:
        self._print(
            "print-receipt",
            lambda: self.paper.print_receipt(path),
            N_("Accusé envoyé à l'imprimante (tâche {job})."),
        )

    def print_slip(self) -> None:
        self._print(
            "print-slip",
            self.paper.print_slip,
            N_("Récépissé envoyé à l'imprimante (tâche {job})."),
        )

    def receipt_print_requested(self, message: ReceiptPrintRequested) -> None:
        self.print_receipt(message.path)

    def slip_print_requested(self, message: SlipPrintRequested) -> None:
        if self.paper.slip is not None:
            self.print_slip()

    def print_secrets(self, message: SecretsPrintRequested) -> None:
        if self.paper.secrets is None:
            return
        self._print(
            "print-secrets",
            self.paper.print_secrets,
            N_("Feuille de codes envoyée à l'imprimante (tâche {job})."),
        )

    def before_leaving(self, then) -> None:
        """``then()`` at once, unless a codes sheet was neither printed nor shown: then ask
        (Entrée prints it, F7 shows it, F9 leaves it, Échap stays)."""
        if not self.paper.secrets_unseen:
            then()
            return
        from proclient.screens.codes import SheetUnseenModal

        def answered(choice: str | None) -> None:
            if choice == "print":
                self.print_secrets(SecretsPrintRequested())
            elif choice == "show":
                self.show_secrets(SecretsShowRequested())
            elif choice == "leave":
                then()

        self.stage.push(SheetUnseenModal(), answered)

    def show_secrets(self, message: SecretsShowRequested) -> None:
        from proclient.screens.done import SecretsModal

        if self.paper.secrets is not None:
            self.paper.secrets_handed = True
            self.stage.push(SecretsModal(self.paper.secrets))

    def reissue_password(self, message: PasswordReissueRequested) -> None:
        """F9 on the done screen: the initial password again, when its reissue after a lost
        answer failed (controllers/creation.py). The new one only goes to the secrets sheet."""
        screen, result = self.stage.top, self.flow.result
        if result is None or self.paper.receipt is None:
            return
        request = self.paper.receipt.request
        creation = self.desk.creation

        async def reissue():
            return await creation.reissue_password(request, result)

        def reissued(new) -> None:
            self.flow.result = new
            if self.paper.issue_secrets(new) and screen.is_attached:
                screen.post_message(PasswordIssued())
                self.stage.notify(
                    _("Nouveau mot de passe provisoire obtenu : F6 imprime la feuille de codes.")
                )

        self.jobs.run("reissue-password", reissue, owner=screen, done=reissued)

    def new_password(self, message: NewPasswordRequested) -> None:
        """F9 at step 2: the DMP is active with its online access open, the first sheet was
        lost: a new initial password (the service checks the professional is authorised)."""
        from datetime import UTC, datetime

        from proclient.screens.codes import NewPasswordScreen

        screen, patient = self.stage.top, self.flow.patient
        if patient is None:
            return
        creation = self.desk.creation

        async def ask():
            return await creation.new_password(patient.ins)

        def issued(web) -> None:
            if not self.stage.is_top(screen):
                return
            self.paper.issue_new_password(patient.display_name, web, datetime.now(UTC))
            self.stage.show(NewPasswordScreen(self.desk.context(), patient.display_name))

        self.jobs.run("new-password", ask, owner=screen, done=issued)

    def open_journal(self, message: JournalRequested) -> None:
        from proclient.screens.journal import JournalScreen

        self.stage.push(JournalScreen(self.desk.context()))

    def load_journal(self, message: JournalLoadRequested) -> None:
        screen = self.stage.top
        self.jobs.run(
            "journal",
            self.paper.journal,
            thread=True,
            owner=screen,
            done=lambda entries: screen.post_message(JournalLoaded(entries)),
        )
