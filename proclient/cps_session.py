"""The professional's session in the app: the CPS unlocked, the idle lock, the card pulled.

A mixin of ProclientApp (kept apart so that app.py stays one screen of wiring). The rules:

- The code porteur is tried once per Enter: never again by itself. The card's flags (few
  tries left, last try, blocked) are read before typing and shown.
- Pulling the CPS from its reader ends the session: the card is logged out, the service's
  session token is forgotten, the patient's data are cleared and the home screen comes back.
- After ``idle_lock_minutes`` without a key press or a click, while a session is open or a
  patient is on screen, the lock screen covers everything; the code unlocks it (a new card
  login and a new service session). The clock comes from the wiring: tests drive it and call
  :meth:`check_idle_lock` themselves.
- Card calls run in threads; one lock orders log-outs and log-ins on the card, because a
  C_Logout reaches every session of the application on that token.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from textual import events, work

from proclient.credentials.pin import wipe
from proclient.domain import DomainError, Professional
from proclient.flow import Step
from proclient.i18n import _
from proclient.logsafe import UNEXPECTED, log_unexpected

log = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 5.0
_ACTIVITY = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)


class CpsSessionMixin:
    """Needs the App's ``wiring``, ``flow``, ``binding``, ``authenticated``, ``submitting``,
    ``_service()``, ``show_step()`` and ``finish()``."""

    def _init_cps_session(self) -> None:
        self.locked = False
        self._credential = None
        self.session_professional: Professional | None = None  # who the open session is for
        self._retired: list = []
        self._card_lock = threading.Lock()
        self._last_activity = self.wiring.clock()
        self._locked_for: str | None = None
        self._step_behind_lock = False  # the flow moved while locked (a card pulled, read)

    def _start_idle_watch(self) -> None:
        self.set_interval(IDLE_CHECK_SECONDS, self.check_idle_lock)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _ACTIVITY) and not event.is_forwarded:
            self._last_activity = self.wiring.clock()
        await super().on_event(event)

    # --- the card ------------------------------------------------------------------------

    @work(exclusive=True, group="pin-status", exit_on_error=False)
    async def probe_pin(self) -> None:
        """Read what the card says about the code (tries left, blocked) for the screen."""
        screen = self.screen
        try:
            binding = await self._service()
            status = await asyncio.to_thread(binding.credentials.pin_status)
        except DomainError as error:
            if screen is self.screen and hasattr(screen, "show_card_problem"):
                screen.show_card_problem(error.message)
            return
        except Exception:
            log_unexpected(log, "card probe failed")
            return
        if screen is self.screen and hasattr(screen, "show_pin_status"):
            screen.show_pin_status(status)

    async def _authenticate(self, pin: bytearray) -> Professional:
        """Unlock the card with ``pin`` (wiped, whatever happens) and open a service session."""
        try:
            binding = await self._service()
            self._retire_credential()
            credential = await asyncio.to_thread(self._unlock_card, binding.credentials, pin)
        finally:
            wipe(pin)
        self._credential = credential
        try:
            professional = await binding.client.login(credential)
        except BaseException:
            self._retire_credential()
            raise
        self.authenticated = True
        self.session_professional = professional
        self._last_activity = self.wiring.clock()
        return professional

    def _unlock_card(self, source, pin: bytearray):
        with self._card_lock:
            self._close_retired_locked()
            return source.unlock(pin)

    def _retire_credential(self) -> None:
        """Forget the unlocked card now; log it out in a thread (a card call may block)."""
        credential, self._credential = self._credential, None
        if credential is not None and hasattr(credential, "close"):
            self._retired.append(credential)
            self.run_worker(self._close_retired, thread=True, group="cps-close",
                            exit_on_error=False)

    def _close_retired(self) -> None:
        with self._card_lock:
            self._close_retired_locked()

    def _close_retired_locked(self) -> None:
        while self._retired:
            try:
                self._retired.pop().close()
            except Exception:
                log_unexpected(log, "card logout failed")

    def _end_session(self) -> None:
        """The professional is gone: card logged out, service session forgotten."""
        self.authenticated = False
        self.flow.professional = self.session_professional = None
        self._retire_credential()
        if self.binding is not None:
            self.binding.client.forget_session()

    # --- the card pulled -------------------------------------------------------------------

    def _cps_removed(self) -> None:
        had_something = self.authenticated or self.locked or self.flow.step is not Step.HOME
        self._end_session()
        self.locked = self._step_behind_lock = False
        if self.submitting:
            self._reset_when_done = True  # the creation in flight ends on its accusé
        else:
            self.finish()
        if had_something:
            self.notify(_("Carte CPS retirée : session fermée, les données du patient ont été "
                          "effacées de l'écran."))

    def close_session(self) -> None:
        """F9 on the lock screen: as if the CPS had been pulled."""
        self._cps_removed()

    def action_toggle_demo_cps(self) -> None:
        if self.wiring.toggle_demo_cps is not None:
            self.wiring.toggle_demo_cps()

    # --- the idle lock ---------------------------------------------------------------------

    def check_idle_lock(self) -> None:
        """Lock when idle too long (run by a timer; tests call it after moving the clock)."""
        minutes = self.wiring.idle_lock_minutes
        if not minutes or self.locked or self.submitting:
            return
        if not (self.authenticated or self.flow.step is not Step.HOME):
            return  # nothing of a patient, no session: nothing to protect
        if self.wiring.clock() - self._last_activity >= minutes * 60:
            self.lock_session()

    def lock_session(self) -> None:
        from proclient.screens.lock import LockScreen

        if self.locked:
            return
        self.locked = True
        owner = self.flow.professional
        self._locked_for = owner.id_nat if owner else None
        self._end_session()
        self.push_screen(LockScreen())

    @work(exclusive=True, group="service-call", exit_on_error=False)
    async def unlock_session(self, pin: bytearray) -> None:
        from proclient.screens.lock import LockScreen

        screen = self.screen
        try:
            professional = await self._authenticate(pin)
        except DomainError as error:
            self._unlock_failed(screen, error.message, error.code == "PIN_LOCKED")
            return
        except Exception:
            log_unexpected(log, "unlock failed")
            self._unlock_failed(screen, _(UNEXPECTED), False)
            return
        finally:
            wipe(pin)
        self.locked = False
        if isinstance(self.screen, LockScreen):
            self.pop_screen()
        if self._step_behind_lock:
            self._step_behind_lock = False
            self.show_step()
        if self._locked_for not in (None, professional.id_nat):
            self.finish()  # another professional's card: the patient was not theirs
            return
        self.flow.professional = professional if self._locked_for else None
        if self.flow.step is Step.CONNECT and self.flow.dmp_state is None:
            self.check_status()

    def _unlock_failed(self, screen, message: str, blocked: bool) -> None:
        if screen is self.screen and hasattr(screen, "login_failed"):
            screen.show_error(message)
            screen.login_failed(locked=blocked)
