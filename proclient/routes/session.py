"""The professional's session: the code porteur (for the login at step 2, to unlock the
screen, or to send the outbox), the card's flags, the idle lock, the CPS pulled."""

from __future__ import annotations

import asyncio

from proclient.controllers.creation import Reachability
from proclient.core.flow import Step
from proclient.core.i18n import _
from proclient.messages import (
    DemoCpsUnblockRequested,
    PinEntered,
    PinPurpose,
    PinStatusRead,
    PinStatusRequested,
    SessionCloseRequested,
)
from proclient.routes.desk import Desk, Route
from proclient.routes.identity import IdentityRoute
from proclient.routes.outbox import OutboxRoute
from proclient.routes.steps import StepsRoute

SESSION_GONE = frozenset({"AUTH_SESSION_EXPIRED", "AUTH_REQUIRED", "AUTH_WORKSTATION_MISMATCH"})


class SessionRoute(Route):
    HANDLES = {
        PinStatusRequested: "pin_status",
        DemoCpsUnblockRequested: "unblock_demo_cps",
        PinEntered: "pin_entered",
        SessionCloseRequested: "close",
    }

    def __init__(
        self, desk: Desk, steps: StepsRoute, identity: IdentityRoute, outbox: OutboxRoute
    ) -> None:
        super().__init__(desk)
        self.steps, self.identity, self.outbox = steps, identity, outbox
        self.session = desk.session
        self.creation = desk.creation

    # --- the card's code -----------------------------------------------------------------------

    def pin_status(self, message: PinStatusRequested) -> None:
        screen = self.stage.top
        self._prepare_login()

        async def probe():
            binding = await self.creation.service()
            return await self.session.pin_status(binding.credentials)

        self.jobs.run(
            "pin-status",
            probe,
            owner=screen,
            done=lambda status: screen.post_message(PinStatusRead(status)),
        )

    def _prepare_login(self) -> None:
        """The PIN is being typed: connect and fetch the challenge meanwhile (on a weak
        mobile link this saves three round trips after Enter; see benchmarks/weak_network.py).
        Not while the service is known to be unreachable; failures are silent."""
        binding = self.creation.binding
        if (
            binding is None
            or self.session.authenticated
            or self.creation.probe.state is Reachability.UNREACHABLE
        ):
            return
        prepare = getattr(binding.client, "prepare_login", None)
        if prepare is not None:
            self.jobs.run("prepare-login", prepare)

    def unblock_demo_cps(self, message: DemoCpsUnblockRequested) -> None:
        """The demo CPS's tries back (demo only: a real card needs its PUK)."""
        screen = self.stage.top
        if not self.desk.wiring.demo:
            return

        async def unblock():
            binding = await self.creation.service()
            return await asyncio.to_thread(binding.credentials.unblock_demo)

        self.jobs.run(
            "pin-status",
            unblock,
            owner=screen,
            done=lambda status: screen.post_message(PinStatusRead(status)),
        )

    def pin_entered(self, message: PinEntered) -> None:
        """One attempt with the code typed, for what it was typed for."""
        if message.purpose is PinPurpose.UNLOCK:
            self._unlock(message.pin)
        elif message.purpose is PinPurpose.OUTBOX:
            self._login_for_outbox(message.pin)
        else:
            self._connect(message.pin)

    async def _login(self, pin: bytearray):
        binding = await self.creation.service()
        return await self.session.login(
            binding.credentials, binding.client, pin, offline_ok=self.desk.outbox.available
        )

    def _connect(self, pin: bytearray) -> None:
        """One login attempt with ``pin`` (wiped afterwards), then INSi and the existence test."""
        self._identify(self.stage.top, lambda: self._login(pin))

    def _identify(self, screen, login) -> None:
        """Step 2 once ``login`` (a coroutine function) signs in: INSi and the existence test."""

        async def connect():
            professional = await login()
            if self.session.offline:
                return professional, None, None  # nothing to ask: the creation is recorded
            return professional, *(await self.identity.identify_for(screen))

        self.jobs.run(
            "connect",
            connect,
            owner=screen,
            failed=self.identity.failed,
            done=lambda answer: self.identity.connected(screen, *answer),
        )

    def signed_in(self, purpose: PinPurpose, professional) -> None:
        """Signed in without the card's code (e-CPS): go on as after the code."""
        from proclient.screens.connect import ConnectScreen
        from proclient.screens.lock import LockScreen

        async def already():
            return professional

        if purpose is PinPurpose.UNLOCK:
            if self.stage.shown(LockScreen):
                self._unlocked(professional)
        elif (shown := self.stage.shown(ConnectScreen)) and self.flow.step is Step.CONNECT:
            self._identify(shown[-1], already)

    def _login_for_outbox(self, pin: bytearray) -> None:
        """The code typed on the outbox screen: sign in, then send what waits."""
        self.jobs.run(
            "outbox-login",
            lambda: self._login(pin),
            owner=self.stage.top,
            done=self._outbox_signed_in,
            failed=self.identity.failed,
        )

    def _outbox_signed_in(self, _professional) -> None:
        self.outbox.refreshed()
        if self.session.authenticated:
            self.outbox.send(quiet=False)

    def _unlock(self, pin: bytearray) -> None:
        self.jobs.run("unlock", lambda: self._login(pin), owner=self.stage.top, done=self._unlocked)

    def _unlocked(self, professional) -> None:
        from proclient.screens.lock import LockScreen

        self.stage.close(LockScreen)
        same = self.session.unlocked(professional)
        if self.steps.behind_lock:
            self.steps.behind_lock = False
            self.steps.show()
        if not same:
            self.steps.finish()  # another professional's card: the patient was not theirs
            return
        self.flow.professional = professional if self.session.locked_for else None
        if self.flow.step is Step.CONNECT and self.session.offline:
            self.identity.offline_for(self.stage.top, professional)
        elif self.flow.step is Step.CONNECT and self.flow.dmp_state is None:
            self.identity.check_status(self.stage.top)

    # --- the end of a session ------------------------------------------------------------------

    def cps_removed(self) -> None:
        session = self.session
        if session.card_less:
            return  # an e-CPS session does not hang on a card
        had_something = session.authenticated or session.locked or self.flow.step is not Step.HOME
        self._end()
        session.locked = self.steps.behind_lock = False
        if not self.creation.in_flight:  # else the creation in flight ends on its accusé
            self.steps.finish()
        if had_something:
            self.stage.notify(
                _(
                    "Carte CPS retirée : session fermée, les données du patient ont été "
                    "effacées de l'écran."
                )
            )

    def _end(self) -> None:
        binding = self.creation.binding
        self.session.end(binding.client if binding else None)
        self.flow.professional = None
        self.desk.cards.forget_pulled()  # a patient set aside is not for the next professional

    def close(self, message: SessionCloseRequested) -> None:
        self.cps_removed()

    def refused(self, failure) -> None:
        """The service no longer knows an e-CPS session (30 min idle, 4 h, PSC's session
        ended): nothing can renew it without the phone, so the screen locks (F2 signs in
        again, the patient waits behind the lock)."""
        if failure.code in SESSION_GONE and self.session.card_less:
            self.lock()
            self.stage.notify(
                _(
                    "Votre session e-CPS a pris fin : reconnectez-vous (F2, sur votre "
                    "téléphone) pour reprendre où vous en étiez."
                ),
                long=True,
            )

    def check_idle_lock(self) -> None:
        """Lock when idle too long (run by a timer; tests call it after moving the clock)."""
        if self.session.idle_due(self.flow.step is not Step.HOME, self.creation.in_flight):
            self.lock()

    def lock(self) -> None:
        from proclient.screens.lock import LockScreen

        if self.session.locked:
            return
        binding = self.creation.binding
        self.session.lock(self.flow.professional, binding.client if binding else None)
        self.flow.professional = None
        self.stage.push(LockScreen())
