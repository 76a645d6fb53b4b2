"""The professional's session: the CPS unlocked with its code, the idle lock, the card pulled.

The rules:

- The code porteur is tried once per Enter: never again by itself. The card's flags (few
  tries left, last try, blocked) are read before typing.
- Pulling the CPS ends the session: the card is logged out, the service's session token is
  forgotten (the App then clears the patient).
- After ``idle_lock_minutes`` without a key press or a click, while a session is open or a
  patient is on screen, the session locks; the code unlocks it (a new card login and a new
  service session). The clock is injected: tests drive it.
- Card calls run in threads; one lock orders log-outs and log-ins on the card, because a
  C_Logout reaches every session of the application on that token.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from proclient.core.domain import DomainError, Professional
from proclient.core.logsafe import log_unexpected
from proclient.credentials.pin import PinStatus, wipe

log = logging.getLogger(__name__)

# The service's answers that mean "not reachable from here now" (not a refusal).
UNREACHABLE = frozenset({"SERVICE_UNAVAILABLE", "SERVICE_TLS_REFUSED"})


class SessionController:
    def __init__(self, clock: Callable[[], float], idle_lock_minutes: int) -> None:
        self.clock = clock
        self.idle_lock_minutes = idle_lock_minutes
        self.credential = None  # the unlocked card (or software key)
        self.authenticated = False
        self.offline = False  # the card unlocked, the service unreachable: captures only
        self.professional: Professional | None = None  # whom the open session is for
        self.locked = False
        self.locked_for: str | None = None  # idNat of the professional whose patient it was
        self.last_activity = clock()
        self._retired: list = []
        self._card_lock = threading.Lock()

    # --- the card ----------------------------------------------------------------------------

    async def pin_status(self, source) -> PinStatus:
        return await asyncio.to_thread(source.pin_status)

    async def login(self, source, client, pin: bytearray, offline_ok: bool = False) -> Professional:
        """Unlock the card with ``pin`` (wiped, whatever happens) and open a service session.

        ``offline_ok``: when the card accepted the PIN but the service cannot be reached, the
        card stays unlocked for recording creations offline (:attr:`offline`; the card
        itself checked the PIN) and the professional is the certificate's; the service
        session opens later with :meth:`go_online`, without the PIN again."""
        try:
            self.retire()
            credential = await asyncio.to_thread(self._unlock, source, pin)
        finally:
            wipe(pin)
        self.credential = credential
        try:
            professional = await client.login(credential)
        except DomainError as error:
            if offline_ok and error.code in UNREACHABLE:
                self.offline, self.authenticated = True, False
                self.professional = credential.professional
                self.touch()
                log.info("service unreachable: CPS unlocked for offline capture")
                return self.professional
            self.retire()
            raise
        except BaseException:
            self.retire()
            raise
        self.authenticated, self.offline = True, False
        self.professional = professional
        self.touch()
        return professional

    def ecps_signed_in(self, professional: Professional) -> None:
        """Signed in with e-CPS (proclient/controllers/ecps.py): a service session and no
        card. Offline capture is not possible (nothing here can sign a consent record)."""
        self.retire()
        self.authenticated, self.offline = True, False
        self.professional = professional
        self.touch()

    @property
    def card_less(self) -> bool:
        """The open session is an e-CPS one (signed in without a card unlocked here):
        pulling a CPS card does not end it."""
        return self.authenticated and self.credential is None

    def fall_offline(self) -> bool:
        """The service stopped answering during a session: keep the card unlocked for
        recording creations (True), or False when no card is unlocked."""
        if self.offline:
            return True
        if not self.authenticated or self.credential is None:
            return False
        self.authenticated, self.offline = False, True
        log.info("service unreachable: the session goes on offline (captures only)")
        return True

    async def go_online(self, client) -> Professional | None:
        """The service answers again: open its session with the card still unlocked (no PIN
        typed again). None when there is no offline session; raises the service's error."""
        if not self.offline or self.credential is None:
            return None
        professional = await client.login(self.credential)
        self.authenticated, self.offline = True, False
        self.professional = professional
        return professional

    def _unlock(self, source, pin: bytearray):
        with self._card_lock:
            self._close_retired_locked()
            return source.unlock(pin)

    def retire(self) -> None:
        """Forget the unlocked card now; log it out in a thread (a card call may block)."""
        credential, self.credential = self.credential, None
        if credential is not None and hasattr(credential, "close"):
            self._retired.append(credential)
            threading.Thread(target=self._close_retired, name="cps-logout", daemon=True).start()

    def _close_retired(self) -> None:
        with self._card_lock:
            self._close_retired_locked()

    def _close_retired_locked(self) -> None:
        while self._retired:
            try:
                self._retired.pop().close()
            except Exception:
                log_unexpected(log, "card logout failed")

    def end(self, client=None) -> None:
        """The professional is gone: card logged out, service session forgotten."""
        self.authenticated = self.offline = False
        self.professional = None
        self.retire()
        if client is not None:
            client.forget_session()

    # --- the idle lock -------------------------------------------------------------------------

    def touch(self) -> None:
        self.last_activity = self.clock()

    def idle_due(self, patient_on_screen: bool, busy: bool) -> bool:
        """Whether the session must lock now."""
        minutes = self.idle_lock_minutes
        if not minutes or self.locked or busy:
            return False
        if not (self.authenticated or self.offline or patient_on_screen):
            return False  # nothing of a patient, no session: nothing to protect
        return self.clock() - self.last_activity >= minutes * 60

    def lock(self, patient_owner: Professional | None, client=None) -> None:
        self.locked = True
        self.locked_for = patient_owner.id_nat if patient_owner else None
        self.end(client)

    def unlocked(self, professional: Professional) -> bool:
        """The code was right: True when the patient on screen (if any) is this professional's."""
        self.locked = False
        return self.locked_for in (None, professional.id_nat)
