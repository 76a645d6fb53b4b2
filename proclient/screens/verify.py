"""« Vérifier un accusé »: the accusé's signed 2D code checked at the counter.

Every counter has a 2D barcode scanner that types what it reads, Enter at the end, like a
keyboard: the field takes those keystrokes (or a pasted code) and Enter checks the code
against the DMP service's certificates this workstation trusts, offline. The answer is one
sentence: what the accusé asserts (the kind, the DMP, the date, the masked INS, the
professional, the consent and the emergency choices), or why it is refused (altered, signed
by an unknown or expired key, unreadable). The field empties for the next scan.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from proclient.core.i18n import N_, _
from proclient.messages import CodeVerified, JobFailed, VerifyCodeRequested
from proclient.screens.base import BaseScreen

MAX_CODE = 4096  # a code is ~400 characters; a scanner gone wild is cut, not accepted whole


class VerifyScreen(BaseScreen):
    title_text = N_("Vérifier un accusé")
    HELP_TEXT = N_(
        "Scannez le code 2D imprimé sur l'accusé de création : le lecteur le tape puis "
        "Entrée. Vous pouvez aussi le coller puis Entrée. Le code est vérifié sur ce poste, "
        "sans réseau, avec les certificats du service DMP. La réponse dit ce que l'accusé "
        "affirme, ou pourquoi il est refusé. Échap revient à l'accueil."
    )
    AUTO_FOCUS = "#code"
    BINDINGS = [Binding("escape", "close", _("Retour"), id="close_verify")]
    DEFAULT_CSS = """
    VerifyScreen #verdict { height: auto; text-style: bold; margin-top: 1; }
    VerifyScreen #verdict.valid { color: $success; }
    VerifyScreen #verdict.refused { color: $error; }
    """

    def compose_body(self) -> ComposeResult:
        yield Static(_("Scannez le code 2D de l'accusé (ou collez-le) puis Entrée :"))
        yield Input(id="code", max_length=MAX_CODE, placeholder=_("DMP1:…"))
        yield Static("", id="verdict")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        event.input.value = ""  # ready for the next scan
        if not text.strip():
            return
        self._show(_("Vérification…"), "")
        self.post_message(VerifyCodeRequested(text))

    def on_code_verified(self, message: CodeVerified) -> None:
        verdict = message.verdict
        self._show(verdict.sentence, "valid" if verdict.valid else "refused")

    def on_job_failed(self, failure: JobFailed) -> None:
        self._show(failure.message, "refused")

    def _show(self, text: str, kind: str) -> None:
        verdict = self.query_one("#verdict", Static)
        verdict.update(text)
        verdict.set_class(kind == "valid", "valid")
        verdict.set_class(kind == "refused", "refused")

    def action_close(self) -> None:
        self.dismiss()
