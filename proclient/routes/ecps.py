"""The e-CPS sign-in: the screen that asks for the national id, the wait for the phone, the
demo's phone, and the hand-over to the session route once signed in (as after the card's
code: INSi and the existence test at step 2, the patient back on the lock screen, the outbox
sent)."""

from __future__ import annotations

import asyncio

from proclient.controllers.ecps import EcpsController, NationalIdMemory
from proclient.core.i18n import _
from proclient.messages import (
    DemoPhoneAnswered,
    EcpsRequested,
    EcpsStartRequested,
    EcpsWaiting,
)
from proclient.routes.desk import Desk, Route
from proclient.routes.session import SessionRoute


class EcpsRoute(Route):
    HANDLES = {
        EcpsRequested: "open",
        EcpsStartRequested: "start",
        DemoPhoneAnswered: "phone",
    }

    def __init__(self, desk: Desk, session: SessionRoute) -> None:
        super().__init__(desk)
        self.session_route = session
        self.controller = EcpsController(desk.session, desk.wiring.ecps_poll_pause)
        self.memory = NationalIdMemory(desk.wiring.national_id_file)
        self.asking: str | None = None  # the national id whose phone is asked

    def open(self, message: EcpsRequested) -> None:
        """The e-CPS screen over the one that asked, the national id remembered in it (read
        from its file in a thread, never on the event loop)."""
        from proclient.screens.ecps import EcpsScreen

        if self.stage.shown(EcpsScreen):
            return
        origin = self.stage.top

        def show(remembered: str) -> None:
            if self.stage.is_top(origin) and not self.stage.shown(EcpsScreen):
                self.stage.push(EcpsScreen(message.purpose, remembered, self.desk.wiring.demo))

        # The App's job, not the asking screen's: nothing to tell that screen if it fails.
        self.jobs.run("ecps-open", self.memory.recall, thread=True, done=show)

    def start(self, message: EcpsStartRequested) -> None:
        screen = self.stage.top
        self.asking = message.national_id

        async def sign_in():
            await asyncio.to_thread(self.memory.remember, message.national_id)
            binding = await self.desk.creation.service()
            return await self.controller.sign_in(
                binding.client,
                message.national_id,
                lambda seconds: screen.post_message(EcpsWaiting(seconds)),
            )

        def done(professional) -> None:
            from proclient.screens.ecps import EcpsScreen

            self.asking = None
            self.stage.close(EcpsScreen)  # closed now: what follows sees the screen below
            self.session_route.signed_in(message.purpose, professional)

        def failed(_failure) -> None:
            self.asking = None

        self.jobs.run("ecps", sign_in, owner=screen, done=done, failed=failed)

    def phone(self, message: DemoPhoneAnswered) -> None:
        """The demo's phone: approve or refuse the request on the e-CPS app."""
        binding = self.desk.creation.binding
        phone = getattr(binding, "phone", None) if binding is not None else None
        asking = self.asking
        if phone is None or asking is None:
            return

        async def answer() -> bool:
            act = phone.approve if message.approve else phone.refuse
            return await asyncio.to_thread(act, asking)

        def answered(found: bool) -> None:
            if not found:
                self.stage.notify(
                    _("Le téléphone de démonstration n'a pas encore reçu la demande : réessayez.")
                )

        self.jobs.run("demo-phone", answer, done=answered, exclusive=False)
