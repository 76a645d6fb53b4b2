"""« Vérifier un accusé »: the screen, and the check of a scanned code in a thread against the
service certificates this workstation trusts (the wiring says which: the settings' bundle,
or the demo service's)."""

from __future__ import annotations

from proclient.messages import CodeVerified, VerifyCodeRequested, VerifyRequested
from proclient.routes.desk import Route


class VerifyRoute(Route):
    HANDLES = {VerifyRequested: "open", VerifyCodeRequested: "check"}

    def open(self, message: VerifyRequested) -> None:
        from proclient.screens.verify import VerifyScreen

        if not self.stage.shown(VerifyScreen):
            self.stage.push(VerifyScreen(self.desk.context()))

    def check(self, message: VerifyCodeRequested) -> None:
        screen = self.stage.top
        trust = self.desk.wiring.verify_trust

        def verify():
            from proclient.core.proof.statement import verify_code

            return verify_code(message.text, trust())

        self.jobs.run(
            "verify-code",
            verify,
            thread=True,
            owner=screen,
            done=lambda verdict: screen.post_message(CodeVerified(verdict)),
        )
