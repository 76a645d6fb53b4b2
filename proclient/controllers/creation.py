"""The DMP service from the workstation's side: starting it, the existence test, the creation.

This controller is the one owner of a write's idempotency key. With a pending folder (every
real wiring) the key is saved on disk *before* the request leaves (service/journal.py): if the
answer is lost after the service committed, the same request made again is sent with the same
key and the service replays its first answer instead of refusing a second DMP. The key depends
on the request's content: a request changed after going back is a new request, a new key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

from proclient.domain import CreationRequest, CreationResult, DmpState, DomainError, Ins
from proclient.i18n import _
from proclient.ports import ServiceBinding

# Errors after which the service may have committed: the key stays for the next attempt.
KEEP_PENDING = frozenset({"SERVICE_UNAVAILABLE", "SERVICE_ERROR", "IDEMPOTENCY_IN_PROGRESS"})
SERVICE_WAIT_SECONDS = 30


class CreationController:
    def __init__(
        self, open_service: Callable[[], ServiceBinding], pending_dir: Path | None = None
    ) -> None:
        self._open_service = open_service
        self.pending_dir = pending_dir
        self.binding: ServiceBinding | None = None
        self.submitting = False
        self._ready = asyncio.Event()
        self._keys: dict[str, str] = {}  # without a pending folder: in memory only

    # --- the service ---------------------------------------------------------------------------

    async def start(self) -> ServiceBinding:
        """Blocking parts (imports, keys, the embedded server) in a thread; then a health check."""
        binding = await asyncio.to_thread(self._open_service)
        await binding.client.health()
        self.binding = binding
        self._ready.set()
        return binding

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

    async def status(self, ins: Ins) -> DmpState:
        binding = await self.service()
        return await binding.client.status(ins)

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

    async def submit(self, request: CreationRequest) -> CreationResult:
        self.submitting = True
        try:
            binding = await self.service()
            key = await asyncio.to_thread(self.key_for, request)
            try:
                result = await binding.client.submit(request, key)
            except DomainError as error:
                if error.code not in KEEP_PENDING:
                    await asyncio.to_thread(self.forget, request)
                raise
            await asyncio.to_thread(self.forget, request)
            return result
        finally:
            self.submitting = False


def _fingerprint(request: CreationRequest) -> str:
    return repr(request)
