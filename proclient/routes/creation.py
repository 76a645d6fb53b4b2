"""Enter on the summary: the creation (or reactivation) and its accusé; or, with the service
unreachable, the creation recorded on the workstation and the patient's slip."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.core.records import CreationReceipt, RecordedSlip
from proclient.core.submission import capture_parts, creation_request
from proclient.messages import CreateRequested, JobFailed, RecordRequested
from proclient.routes.desk import Desk, HomeBoard, Route
from proclient.routes.outbox import OutboxRoute
from proclient.routes.paper import PaperRoute


class CreationRoute(Route):
    HANDLES = {CreateRequested: "create", RecordRequested: "record_requested"}

    def __init__(self, desk: Desk, board: HomeBoard, paper: PaperRoute, outbox: OutboxRoute):
        super().__init__(desk)
        self.board, self.paper, self.outbox = board, paper, outbox
        self.creation = desk.creation

    def _begin(self) -> None:
        self.creation.in_flight = True

    def _end(self, _failure: JobFailed | None = None) -> None:
        self.creation.in_flight = False

    def create(self, message: CreateRequested) -> None:
        if self.creation.in_flight:
            return  # a second press while the first is on its way sends nothing
        screen, flow = self.stage.top, self.flow
        if flow.offline:
            self._record(screen)
            return
        try:
            request = creation_request(flow)
        except DomainError as error:
            screen.post_message(JobFailed("create", error.code, error.message))
            return
        self._begin()
        paper, demo, session = self.desk.paper, self.desk.wiring.demo, self.desk.session

        async def create():
            result = await self.creation.create(request, on_retry=lambda _path: screen.retrying())
            flow.completed(result)
            receipt = CreationReceipt(
                request,
                flow.professional,
                result.dmp_id,
                result.at,
                demo=demo,
                statement=result.statement,
            )
            # Signed by the session's card (None under e-CPS: unsigned, and it says so).
            return await asyncio.to_thread(paper.issue, receipt, result, session.credential)

        self.jobs.run("create", create, owner=screen, done=self._created, failed=self._end)

    def _created(self, issued: tuple[str, str]) -> None:
        from proclient.screens.done import DoneScreen

        preview, error = issued
        self._end()
        paper = self.desk.paper
        lost = self.creation.password_error
        self.stage.show(
            DoneScreen(
                self.flow,
                self.desk.context(),
                paper.receipt_path,
                preview,
                paper.secrets is not None,
                password_error=lost.message if lost is not None and not paper.secrets else "",
            )
        )
        if error:
            self.stage.notify(error, "error", long=True)
        if self.desk.wiring.auto_print:
            self.paper.print_receipt()

    def record_requested(self, message: RecordRequested) -> None:
        """F9 on the summary: the live creation could not reach the service; record it."""
        if not self.creation.in_flight:
            self._record(self.stage.top, live=True)

    def _record(self, screen, live: bool = False) -> None:
        """Sign and keep the capture, then show the patient's slip. ``live``: the creation
        was first sent live and the service could not be reached: the capture goes under
        that request's idempotency key (if the request did arrive, the service replays its
        answer instead of a second DMP) and the outbox owns the key from then on."""
        flow, credential = self.flow, self.desk.session.credential
        try:
            held, document, consent, representative = capture_parts(flow)
            if credential is None or flow.professional is None:
                raise DomainError(
                    "NOT_CONNECTED", _("Connectez-vous avec votre carte CPS pour continuer.")
                )
            request = creation_request(flow) if live else None
        except DomainError as error:
            screen.post_message(JobFailed("create", error.code, error.message))
            return
        professional, outbox, demo = flow.professional, self.desk.outbox, self.desk.wiring.demo
        self._begin()

        async def record():
            key = (
                None if request is None else await asyncio.to_thread(self.creation.key_for, request)
            )
            parts = (held, document, consent, representative, credential, key)
            entry_id = await asyncio.to_thread(outbox.record, *parts)
            if request is not None:
                await asyncio.to_thread(self.creation.forget, request)  # the outbox owns it
            flow.was_recorded(entry_id)
            slip = RecordedSlip(
                held.display_name, professional, datetime.now(UTC), consent, representative, demo
            )
            return await asyncio.to_thread(self.desk.paper.issue_slip, slip)

        self.jobs.run("record", record, owner=screen, done=self._recorded, failed=self._end)

    def _recorded(self, preview: str) -> None:
        from proclient.screens.recorded import RecordedScreen

        self._end()
        self.stage.show(
            RecordedScreen(self.flow, self.desk.context(), preview, self.desk.outbox.pending)
        )
        self.outbox.refreshed()
        if self.desk.wiring.auto_print:
            self.paper.print_slip()
        self.outbox.send()  # the service may have come back meanwhile
