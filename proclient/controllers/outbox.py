"""Creations recorded offline: recording them, and sending each exactly once when the service
answers again.

Recording (:meth:`OutboxController.record`) signs the consent record with the professional's
credential (the CPS card checks its PIN itself, offline) and writes the entry, encrypted,
before the professional is told « enregistrée ».

Sending (:meth:`OutboxController.send`), per entry, in the professional's open session:

1. INSi first, by the card or by the traits as they were held: 01 or 02 keeps the entry with
   that reason; one identity with a difference that could be another person (birth name,
   given name, birth date, sex, another NIR) keeps it as INSI_DIFFERENCES until the
   professional accepts INSi's identity (:meth:`accept`); the other differences (given names
   missing on the card or in another order, an earlier matricule, no own NIR on the card) are
   those the live flow shows without stopping either.
2. The entry is marked SENDING, then TD1.1 goes with the entry's idempotency key and the
   signed consent record. Killed anywhere here, the next send resends the same key: the
   service replays its first answer instead of a second DMP.
3. The accusé is saved (and printed where the workstation prints by itself) by ``on_created``
   — saving the same accusé again replaces the same file — and only then the entry leaves
   the disk.

A refusal (a DMP created meanwhile, a closed DMP, a stale or unverifiable consent…) keeps the
entry with its reason for the professional to see and decide: nothing is dropped silently.
The service unreachable stops the run; the entries stay as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from proclient.controllers.outbox_report import SendReport
from proclient.core.capture import Capture
from proclient.core.domain import Action, Consent, DomainError, LegalRepresentative, Professional
from proclient.core.identity import (
    CardQuery,
    Difference,
    Document,
    HeldIdentity,
    IdentityCheck,
    differences,
    identity_status,
    insi_query_for,
    insi_refusal,
)
from proclient.core.records import CreationRequest, CreationResult
from proclient.outbox.port import (
    EntryState,
    EntrySummary,
    EntryTampered,
    Outbox,
    OutboxEntry,
    OutboxError,
    UnknownEntry,
)

log = logging.getLogger(__name__)

SEND_LOCK = ".send.lock"
"""In the outbox folder: one send run at a time across processes (the App, `proclient outbox
send`)."""


def send_lock_path(outbox) -> Path | None:
    """Where the send lock of ``outbox`` is (None for an outbox without a folder)."""
    directory = getattr(outbox, "directory", None)
    return Path(directory) / SEND_LOCK if directory is not None else None


# Differences that may mean another person: the replay stops there until the professional
# accepts INSi's identity. The others are shown by the live flow without stopping either.
DOUBTFUL = frozenset(
    {
        Difference.BIRTH_NAME,
        Difference.GIVEN_NAME,
        Difference.BIRTH_DATE,
        Difference.SEX,
        Difference.NIR_OTHER,
    }
)
# The service could not be reached or may have committed: the run stops, the entry stays.
STOPS_THE_RUN = frozenset(
    {
        "SERVICE_UNAVAILABLE",
        "SERVICE_TLS",
        "SERVICE_ERROR",
        "IDEMPOTENCY_IN_PROGRESS",
        "AUTH_REQUIRED",
        "AUTH_SESSION_EXPIRED",
        "AUTH_RATE_LIMITED",
        "SERVICE_BUSY",
        "SERVICE_TLS_REFUSED",
    }
)


OnCreated = Callable[[str, CreationRequest, CreationResult, Capture], Awaitable[None]]


class OutboxController:
    """The outbox port, and the one sender of its entries in this process."""

    def __init__(
        self,
        outbox: Outbox | None,
        today: Callable[[], date] = date.today,
        majority: int = 18,
        lock_path: Path | None = None,
    ) -> None:
        self.outbox = outbox
        self.today = today
        self.majority = majority
        self.lock_path = lock_path
        self._sending = asyncio.Lock()
        self.summaries: list[EntrySummary] = []
        """The last list read (:meth:`refresh`), for the screens."""

    @property
    def available(self) -> bool:
        return self.outbox is not None

    # --- reading ----------------------------------------------------------------------------

    def refresh(self) -> list[EntrySummary]:
        """Read the list again (blocking: files and decryption; the App runs it in a thread)."""
        self.summaries = self.outbox.list() if self.outbox is not None else []
        return self.summaries

    @property
    def pending(self) -> int:
        return len(self.summaries)

    @property
    def oldest(self) -> datetime | None:
        times = [s.captured_at for s in self.summaries if s.captured_at is not None]
        return min(times) if times else None

    def get(self, entry_id: str) -> OutboxEntry:
        assert self.outbox is not None
        return self.outbox.get(entry_id)

    # --- recording --------------------------------------------------------------------------

    def record(
        self,
        held: HeldIdentity,
        document: Document,
        consent: Consent,
        legal_representative: LegalRepresentative | None,
        credential,
        idempotency_key: str | None = None,
    ) -> str:
        """Sign and keep one capture (blocking: the card signs, the file is fsynced); its id.
        ``idempotency_key``: the key of a live request that may have reached the service (the
        service then replays its answer). Raises DomainError when it could not be kept
        (nothing is said « enregistrée » then)."""
        from proclient.outbox.entry import capture

        if self.outbox is None:
            raise DomainError("OUTBOX_UNAVAILABLE", _no_outbox())
        entry = capture(
            held,
            document,
            consent,
            legal_representative,
            credential,
            idempotency_key=idempotency_key,
        )
        try:
            entry_id = self.outbox.put(entry)
        except OSError:
            log.warning("outbox entry not written")
            raise DomainError("OUTBOX_UNAVAILABLE", _no_outbox()) from None
        log.info("creation recorded offline (entry %s)", entry_id)
        self.refresh()
        return entry_id

    def accept(self, entry_id: str) -> None:
        """The professional accepts INSi's identity despite the differences (blocking)."""
        assert self.outbox is not None
        self.outbox.accept(entry_id)
        log.info("INSi identity accepted for entry %s", entry_id)
        self.refresh()

    def drop(self, entry_id: str) -> None:
        """The professional gives the creation up (blocking): the entry leaves the disk."""
        assert self.outbox is not None
        self.outbox.done(entry_id)
        log.info("entry %s dropped by the professional", entry_id)
        self.refresh()

    # --- sending ----------------------------------------------------------------------------

    async def send(
        self,
        client,
        professional: Professional,
        on_created: OnCreated,
        only: str | None = None,
    ) -> SendReport:
        """Send the pending entries (``only``: that one, held or not) in ``client``'s open
        session. One run at a time in this process, and across processes when a lock file is
        set (a second run waits for the first: the entries it finds are what is left)."""
        report = SendReport()
        if self.outbox is None:
            return report
        async with self._sending:
            lock = _process_lock(self.lock_path) if self.lock_path else contextlib.nullcontext()
            async with lock:
                summaries = await asyncio.to_thread(self.outbox.list)
                for summary in summaries:
                    if only is not None and summary.id != only:
                        continue
                    if summary.state is EntryState.TAMPERED:
                        report.tampered.append(summary.id)
                        continue
                    if summary.state is EntryState.HELD and only is None:
                        continue
                    if summary.id_nat != professional.id_nat:
                        report.others += 1
                        continue
                    try:
                        await self._send_one(summary.id, client, on_created, report)
                    except DomainError as error:
                        report.stopped = error
                        break
            await asyncio.to_thread(self.refresh)
        return report

    async def _send_one(self, entry_id: str, client, on_created: OnCreated, report) -> None:
        outbox = self.outbox
        assert outbox is not None
        try:
            entry = await asyncio.to_thread(outbox.get, entry_id)
        except EntryTampered:
            report.tampered.append(entry_id)
            return
        except UnknownEntry:
            return  # sent by another run meanwhile
        held = entry.capture.held

        async def hold(reason: str) -> None:
            await asyncio.to_thread(outbox.mark, entry_id, EntryState.HELD, reason)
            report.held.append((entry_id, reason))
            log.info("entry %s held (%s)", entry_id, reason)

        try:
            query = insi_query_for(held)
        except DomainError as error:
            await hold(error.code)
            return
        if isinstance(query, CardQuery):
            answer = await client.insi_by_card(query)
        else:
            answer = await client.insi_by_traits(query)
        refusal = insi_refusal(answer)
        if refusal is not None or answer.identity is None:
            await hold(refusal.code if refusal is not None else "INSI_NONE")
            return
        found = differences(held, answer.identity)
        if not entry.accepted and any(d in DOUBTFUL for d in found):
            await hold("INSI_DIFFERENCES")
            return
        check = IdentityCheck(answer.identity, held, found)
        try:
            status = identity_status(
                entry.capture.document, check.patient.birth_date, self.today(), self.majority
            )
        except DomainError as error:
            await hold(error.code)
            return
        check = replace(check, document=entry.capture.document, status=status)
        request = CreationRequest(
            action=Action.CREATION,
            patient=check.patient,
            consent=entry.capture.consent,
            legal_representative=entry.capture.legal_representative,
            web_access=None,
            identity=check,
        )
        if request.legal_representative is None and check.patient.is_minor(
            self.today(), self.majority
        ):
            await hold("PATIENT_MINOR")
            return
        await asyncio.to_thread(outbox.mark, entry_id, EntryState.SENDING, "")
        try:
            result = await client.submit(request, entry.idempotency_key, entry.proof)
        except DomainError as error:
            if error.code in STOPS_THE_RUN:
                raise
            await hold(error.code)
            return
        await on_created(entry_id, request, result, entry.capture)
        with contextlib.suppress(UnknownEntry):
            await asyncio.to_thread(outbox.done, entry_id)
        report.created.append((entry_id, result))
        log.info("entry %s created as %s", entry_id, result.dmp_id)


@contextlib.asynccontextmanager
async def _process_lock(path: Path):
    """An exclusive lock across processes (flock), taken in a thread (it may wait)."""
    from proclient.core.fileutil import file_lock

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    held = file_lock(path)
    await asyncio.to_thread(held.__enter__)
    try:
        yield
    finally:
        held.__exit__(None, None, None)


def detail_lines(entry_id: str, entry: OutboxEntry, summaries: list[EntrySummary]) -> list[str]:
    """One entry for the professional who recorded it (the outbox screen only: the list
    names nobody): the identity held, the document, the choices, where it stands and why."""
    from proclient.core.clock import paris_time
    from proclient.core.domain import format_nir
    from proclient.core.i18n import _
    from proclient.core.problems import problem_message

    capture, held = entry.capture, entry.capture.held
    summary = next((s for s in summaries if s.id == entry_id), None)
    yes, no = _("autorisé"), _("refusé")
    lines = [
        _(
            "Patient : {name}, né(e) le {birth}",
            name=held.display_name,
            birth=held.birth_date.display,
        ),
    ]
    if held.nir:
        lines.append(_("NIR de la carte : {nir}", nir=format_nir(held.nir)))
    lines += [
        _("Pièce vue : {document}", document=capture.document.label),
        _(
            "Enregistrée le {when} par {id_nat}",
            when=paris_time(capture.captured_at).strftime("%d/%m/%Y à %H:%M"),
            id_nat=capture.id_nat,
        ),
        _("Accès SAMU (centre 15) : {v}", v=yes if capture.consent.samu_access else no),
        _("Accès bris de glace : {v}", v=yes if capture.consent.break_glass_access else no),
    ]
    if capture.legal_representative is not None:
        lines.append(_("Représentant légal : {rep}", rep=capture.legal_representative.display))
    if entry.accepted:
        lines.append(_("Identité de l'INSi acceptée malgré les différences."))
    if summary is not None:
        lines.append(_("État : {state}", state=summary.state.label))
        if summary.reason:
            lines.append(problem_message(summary.reason) or summary.reason)
    return lines


def receipt_filer(
    paper, professional: Professional, demo: bool = False, credential=None
) -> OnCreated:
    """The ``on_created`` of a send run: the accusé made then (« recueilli hors connexion
    le … »), signed by ``credential`` (the sending session's card; None: unsigned, and it
    says so), saved, and printed when the workstation prints by itself (``paper`` is a
    PaperController). A failure to save stops the run before the entry is done: the next
    run replays the creation and makes the accusé again."""
    from proclient.core.records import CreationReceipt

    async def on_created(entry_id, request, result, capture) -> None:
        receipt = CreationReceipt(
            request,
            professional,
            result.dmp_id,
            result.at,
            demo=demo,
            consent_captured_at=capture.captured_at,
            statement=result.statement,
        )
        await asyncio.to_thread(paper.file_receipt, receipt, credential)

    return on_created


def _no_outbox() -> str:
    from proclient.core.i18n import _

    return _(
        "La création n'a pas pu être enregistrée sur ce poste (dossier des créations en "
        "attente inaccessible) : rien n'est enregistré, réessayez."
    )


__all__ = ["OutboxController", "OutboxError", "SendReport", "receipt_filer"]
