"""The DMP service from the workstation's side: starting it, the existence test, the creation.

This controller is the one owner of a write's idempotency key. With a pending folder (every
real wiring) the key is saved on disk *before* the request leaves (service/journal.py): if the
answer is lost after the service committed, the same request made again is sent with the same
key and the service replays its first answer instead of refusing a second DMP. The key depends
on the request's content: a request changed after going back is a new request, a new key.

The replay of a lost answer carries no initial password (the service hands it out once and
keeps only its hash). When the request asked for online access, a replay means the patient
never got the secrets sheet (it is never stored): the controller then asks the service for a
new password for the same login (the old one becomes void) and returns it as if it had come
with the first answer, so that the sheet is printed as after any creation. It stays in memory
only. When that reissue fails (service down), the creation still stands: the result has no
password, :attr:`CreationController.password_error` says why, and the done screen offers
:meth:`CreationController.reissue_password` again (F9) while the patient is there.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from proclient.core.domain import DmpState, DomainError, Ins, refusal
from proclient.core.i18n import _
from proclient.core.identity import CardQuery, InsiAnswer, InsiCode, TraitsQuery
from proclient.core.problems import problem_message
from proclient.core.records import CreationRequest, CreationResult
from proclient.ports import ServiceBinding

log = logging.getLogger(__name__)

# Errors after which the service may have committed: the key stays for the next attempt.
KEEP_PENDING = frozenset({"SERVICE_UNAVAILABLE", "SERVICE_ERROR", "IDEMPOTENCY_IN_PROGRESS"})
SERVICE_WAIT_SECONDS = 30
# Reissues in a row whose own answer may come back as a replay without password (the
# client resent the same key after a dropped connection): each new try has a new key.
REISSUE_ATTEMPTS = 3


# The health probe's period: soon again while the service is down (5 s, doubled up to 60 s),
# every 30 s while it answers.
PROBE_DOWN_FIRST = 5.0
PROBE_DOWN_MAX = 60.0
PROBE_UP = 30.0


class Reachability(enum.Enum):
    UNKNOWN = "unknown"
    REACHABLE = "reachable"
    UNREACHABLE = "unreachable"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ServiceProbe:
    """What the last health checks said of the service, and when to ask again (back-off).

    Textual-free: the App runs :meth:`check` in a worker and schedules the next one after
    :meth:`next_delay` seconds. ``now`` gives the wall-clock time (tests inject it)."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or _utc_now
        self.state = Reachability.UNKNOWN
        self.since: datetime | None = None  # first failed check of the current outage
        self._down_delay = PROBE_DOWN_FIRST

    def record(self, reachable: bool) -> None:
        """One health check's answer."""
        if reachable:
            self.state, self.since = Reachability.REACHABLE, None
            self._down_delay = PROBE_DOWN_FIRST
            return
        if self.state is not Reachability.UNREACHABLE:
            self.state, self.since = Reachability.UNREACHABLE, self._now()
            self._down_delay = PROBE_DOWN_FIRST
        else:
            self._down_delay = min(self._down_delay * 2, PROBE_DOWN_MAX)

    def next_delay(self) -> float:
        """Seconds until the next check."""
        if self.state is Reachability.UNREACHABLE:
            return self._down_delay
        return PROBE_UP if self.state is Reachability.REACHABLE else PROBE_DOWN_FIRST

    def label(self) -> str:
        """The state in words (never « prêt » for a service that did not answer)."""
        if self.state is Reachability.REACHABLE:
            return _("joignable")
        if self.state is Reachability.UNREACHABLE and self.since is not None:
            from proclient.core.clock import paris_time  # zoneinfo: not at start-up

            since = paris_time(self.since).strftime("%H:%M")
            return _("injoignable depuis {time}", time=since)
        return _("état inconnu")


class CreationController:
    def __init__(
        self, open_service: Callable[[], ServiceBinding], pending_dir: Path | None = None
    ) -> None:
        self._open_service = open_service
        self.pending_dir = pending_dir
        self.probe = ServiceProbe()
        self.binding: ServiceBinding | None = None
        self.submitting = False
        self.in_flight = False
        """From Enter on the summary until the accusé (or the offline slip) is saved: nothing
        else may change the patient meanwhile (a card pulled, F6, Esc)."""
        self._ready = asyncio.Event()
        self._keys: dict[str, str] = {}  # without a pending folder: in memory only
        # Why the last submission's initial password could not be issued (None: it was, or
        # none was asked for). The creation itself is done either way.
        self.password_error: DomainError | None = None

    # --- the service ---------------------------------------------------------------------------

    async def start(self) -> ServiceBinding:
        """Blocking parts (imports, keys, the embedded server) in a thread; then a health check
        (its answer in :attr:`probe`)."""
        binding = await asyncio.to_thread(self._open_service)
        self.binding = binding
        self._ready.set()
        await self.check()
        return binding

    async def check(self) -> Reachability:
        """One health check of the opened service, recorded in :attr:`probe`."""
        if self.binding is None:
            return self.probe.state
        self.probe.record(await self.binding.client.health())
        return self.probe.state

    async def service(self) -> ServiceBinding:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=SERVICE_WAIT_SECONDS)
        except TimeoutError:
            raise DomainError(
                "SERVICE_UNAVAILABLE",
                _("Le service DMP ne répond pas : vérifiez la connexion puis réessayez."),
            ) from None
        assert self.binding is not None
        return self.binding

    async def aclose(self) -> None:
        if self.binding is not None:
            await self.binding.client.aclose()
            if self.binding.stop is not None:
                await asyncio.to_thread(self.binding.stop)

    async def status(self, ins: Ins) -> DmpState:
        binding = await self.service()
        return await binding.client.status(ins)

    async def insi(self, query: CardQuery | TraitsQuery) -> InsiAnswer:
        """Ask INSi (through the service, in the professional's session): by the card or by
        the traits. A read: asked again as it is after a failure, nothing to keep."""
        binding = await self.service()
        if isinstance(query, CardQuery):
            return await binding.client.insi_by_card(query)
        return await binding.client.insi_by_traits(query)

    async def identify(self, query: CardQuery | TraitsQuery) -> tuple[InsiAnswer, DmpState | None]:
        """INSi's answer and, when it found one identity, the existence test (TD0.2) for the
        INS it returned."""
        answer = await self.insi(query)
        if answer.code is not InsiCode.FOUND or answer.identity is None:
            return answer, None
        return answer, await self.status(answer.identity.ins)

    # --- the idempotency key -------------------------------------------------------------------

    def _journal(self):
        from proclient.service.journal import IdempotencyJournal

        return IdempotencyJournal(self.pending_dir) if self.pending_dir is not None else None

    def key_for(self, request: CreationRequest) -> str:
        """The key this request was first sent with, or a new one (saved before returning)."""
        journal = self._journal()
        if journal is not None:
            return journal.key_for(request)
        return self._keys.setdefault(_fingerprint(request), str(uuid.uuid4()))

    def forget(self, request: CreationRequest) -> None:
        """The answer arrived, or the service refused for good: the key is done with."""
        journal = self._journal()
        if journal is not None:
            journal.done(request)
        self._keys.pop(_fingerprint(request), None)

    # --- the creation ----------------------------------------------------------------------------

    async def create(
        self, request: CreationRequest, on_retry: Callable[[str], None] | None = None
    ) -> CreationResult:
        """The creation at Enter on the summary. With the service known gone and still gone
        at one health check (3 s at most), SERVICE_UNAVAILABLE at once, nothing sent, rather
        than after the write's 20 s of retries; otherwise :meth:`submit`."""
        if self.probe.state is Reachability.UNREACHABLE and (
            await self.check() is Reachability.UNREACHABLE
        ):
            raise refusal("SERVICE_UNAVAILABLE")
        return await self.submit(request, on_retry)

    async def submit(
        self, request: CreationRequest, on_retry: Callable[[str], None] | None = None
    ) -> CreationResult:
        """Create or reactivate; with online access, the result carries the patient's initial
        password, reissued when the answer was a replay (see the module's docstring). When
        the reissue fails, the result has none and :attr:`password_error` says why.
        ``on_retry``: told each time the request goes again (a host gone, a failover)."""
        self.submitting = True
        self.password_error = None
        binding = None
        try:
            binding = await self.service()
            binding.client.on_retry = on_retry
            key = await asyncio.to_thread(self.key_for, request)
            try:
                result = await binding.client.submit(request, key)
            except DomainError as error:
                if error.code not in KEEP_PENDING:
                    await asyncio.to_thread(self.forget, request)
                raise
            await asyncio.to_thread(self.forget, request)
            if password_lost(request, result):
                log.info("the answer was a replay without the initial password: reissuing it")
                try:
                    result = await self.reissue_password(request, result)
                except DomainError as error:
                    log.warning("initial password not reissued (%s)", error.code)
                    self.password_error = error
            return result
        finally:
            self.submitting = False
            if binding is not None:
                binding.client.on_retry = None

    async def reissue_password(
        self, request: CreationRequest, result: CreationResult
    ) -> CreationResult:
        """``result`` with a new initial password for its web login (the previous one is void
        on the service). Each try has a new idempotency key, kept in memory only: a reissue
        lost on its way is harmless, the next one voids it. Raises DomainError (the service's
        or PASSWORD_NOT_ISSUED); :attr:`password_error` is cleared on success."""
        web = await self.new_password(request.patient.ins)
        self.password_error = None
        return replace(result, web=web)

    async def new_password(self, ins: Ins):
        """A new initial password for the web account of the DMP of ``ins`` (the previous one
        is void); only a professional authorised on the DMP gets it (the service checks).
        Raises DomainError (the service's, or PASSWORD_NOT_ISSUED)."""
        binding = await self.service()
        for _attempt in range(REISSUE_ATTEMPTS):
            web = await binding.client.reissue_password(ins, str(uuid.uuid4()))
            if web.initial_password:
                return web
        raise DomainError("PASSWORD_NOT_ISSUED", problem_message("PASSWORD_NOT_ISSUED") or "")


def password_lost(request: CreationRequest, result: CreationResult) -> bool:
    """Online access was asked and opened, but the answer carries no password: it was the
    replay of an answer that never arrived, so the patient has not had the sheet."""
    return (
        request.web_access is not None
        and result.web is not None
        and not result.web.initial_password
    )


def _fingerprint(request: CreationRequest) -> str:
    return repr(request)
