"""The creations recorded offline (the outbox): the home's line, the F7 screen, and sending
them when a session is open and the service answers."""

from __future__ import annotations

from datetime import UTC, datetime

from proclient.controllers.creation import Reachability
from proclient.controllers.outbox import detail_lines, receipt_filer
from proclient.core.i18n import _
from proclient.messages import (
    JobFailed,
    OutboxAcceptRequested,
    OutboxDetailLoaded,
    OutboxDetailRequested,
    OutboxDropRequested,
    OutboxLoaded,
    OutboxLoadRequested,
    OutboxRequested,
    OutboxSendRequested,
    OutboxSent,
)
from proclient.routes.desk import Desk, HomeBoard, Route
from proclient.routes.service import ServiceRoute


class OutboxRoute(Route):
    HANDLES = {
        OutboxRequested: "open",
        OutboxLoadRequested: "load",
        OutboxSendRequested: "send_requested",
        OutboxAcceptRequested: "accept",
        OutboxDropRequested: "drop",
        OutboxDetailRequested: "detail",
    }

    def __init__(self, desk: Desk, board: HomeBoard, service: ServiceRoute) -> None:
        super().__init__(desk)
        self.board = board
        self.service = service
        self.outbox = desk.outbox
        self.session = desk.session
        self._tampered_said: set[str] = set()  # entries already reported as changed
        service.listen(self._service_checked)

    # --- the list ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the outbox list again (a thread: files and decryption), then say so."""
        self.jobs.run(
            "outbox-list",
            self.outbox.refresh,
            thread=True,
            done=self.refreshed,
            failed=lambda failure: self.stage.notify(failure.message, "error", long=True),
        )

    def refreshed(self, _summaries=None) -> None:
        self.board.outbox = self.home_line()
        self.board.refresh()
        from proclient.screens.outbox import OutboxScreen

        for screen in self.stage.shown(OutboxScreen):
            screen.post_message(self._loaded())

    def _loaded(self) -> OutboxLoaded:
        can_send, why = self._can_send()
        needs_pin = (
            not can_send
            and self.service.state is Reachability.REACHABLE
            and not self.session.authenticated
        )
        return OutboxLoaded(list(self.outbox.summaries), can_send, why, needs_pin)

    def _can_send(self) -> tuple[bool, str]:
        if self.service.state is not Reachability.REACHABLE:
            return False, _(
                "Service DMP : {state} ; les créations seront envoyées dès qu'il répondra.",
                state=self.service.label,
            )
        if not self.session.authenticated:
            return False, _("Saisissez votre code porteur pour les envoyer.")
        return True, ""

    def home_line(self) -> str:
        """The home screen's line: how many creations wait, since when."""
        n = self.outbox.pending
        if not n:
            return ""
        oldest = self.outbox.oldest
        from proclient.core.clock import paris_time  # zoneinfo: not at start-up

        if oldest is None:
            return _("Créations enregistrées en attente : {n} — F7 pour les voir.", n=n)
        return _(
            "Créations enregistrées en attente : {n} (la plus ancienne : {age}, le {when}) — "
            "F7 pour les voir.",
            n=n,
            age=age_in_words(oldest),
            when=paris_time(oldest).strftime("%d/%m à %H:%M"),
        )

    # --- sending -------------------------------------------------------------------------------

    def _service_checked(self, state: Reachability) -> None:
        self.refreshed()  # what the outbox screen says depends on the service's state
        if state is not Reachability.REACHABLE:
            return
        binding = self.desk.creation.binding
        if self.session.offline and binding is not None:
            # The service answers: the offline session opens its service session (the card
            # is still unlocked), then what waits is sent.
            async def online():
                return await self.session.go_online(binding.client)

            self.jobs.run("go-online", online, done=lambda _p: self.send())
            return
        self.send()

    def send(self, entry_id: str | None = None, quiet: bool = True) -> bool:
        """Send the pending entries (or ``entry_id``) when a session is open and the service
        answers; ``quiet``: a background run says nothing when there was nothing to send.
        False when no run was started (then nothing will be told)."""
        if not self.outbox.available or self.desk.creation.in_flight:
            return False
        if entry_id is None and not self.outbox.pending:
            return False
        can_send, why = self._can_send()
        if not can_send:
            if not quiet:
                self.stage.notify(why)
            return False
        binding = self.desk.creation.binding
        professional = self.session.professional
        if binding is None or professional is None:
            return False
        on_created = receipt_filer(
            self.desk.paper, professional, self.desk.wiring.demo, self.session.credential
        )

        async def send():
            binding.client.on_retry = self._retrying
            try:
                return await self.outbox.send(
                    binding.client, professional, on_created, only=entry_id
                )
            finally:
                binding.client.on_retry = None

        def sent(report) -> None:
            self.refreshed()
            created = tuple(entry_id for entry_id, _result in report.created)
            pending = self.outbox.pending
            self.stage.tell(lambda: OutboxSent(created, pending))
            said = report.said(quiet, self._tampered_said)
            if said is not None:
                text, severity = said
                self.stage.notify(text, severity, long=severity != "information")

        def failed(failure: JobFailed) -> None:
            self.stage.notify(failure.message, "error", long=True)
            self.refresh()
            pending = self.outbox.pending
            self.stage.tell(lambda: OutboxSent((), pending))

        self.jobs.run("outbox-send", send, done=sent, failed=failed)
        return True

    # --- the F7 screen -------------------------------------------------------------------------

    def open(self, message: OutboxRequested) -> None:
        from proclient.screens.outbox import OutboxScreen

        if self.outbox.available:
            self.stage.push(OutboxScreen(self.desk.context()))

    def load(self, message: OutboxLoadRequested) -> None:
        self.refresh()

    def _retrying(self, _path: str) -> None:
        """A request of the run goes again: the screen waiting for it says so."""
        retrying = getattr(self.stage.top, "retrying", None)
        if retrying is not None:
            retrying()

    def send_requested(self, message: OutboxSendRequested) -> None:
        if not self.send(message.entry_id, quiet=False):
            pending = self.outbox.pending
            self.stage.tell(lambda: OutboxSent((), pending))  # the screen stops waiting

    def accept(self, message: OutboxAcceptRequested) -> None:
        self.jobs.run(
            "outbox-accept",
            lambda: self.outbox.accept(message.entry_id),
            thread=True,
            owner=self.stage.top,
            done=lambda _none: self.send(message.entry_id, quiet=False),
        )

    def drop(self, message: OutboxDropRequested) -> None:
        self.jobs.run(
            "outbox-drop",
            lambda: self.outbox.drop(message.entry_id),
            thread=True,
            owner=self.stage.top,
            done=self.refreshed,
        )

    def detail(self, message: OutboxDetailRequested) -> None:
        screen, entry_id = self.stage.top, message.entry_id
        self.jobs.run(
            "outbox-detail",
            lambda: detail_lines(entry_id, self.outbox.get(entry_id), self.outbox.summaries),
            thread=True,
            owner=screen,
            done=lambda lines: screen.post_message(OutboxDetailLoaded(entry_id, lines)),
        )


def age_in_words(since: datetime, now: datetime | None = None) -> str:
    """How long ago ``since`` was, in words: « il y a 5 min », « il y a 3 h », « il y a 2 j »."""
    seconds = max(0.0, ((now or datetime.now(UTC)) - since).total_seconds())
    if seconds < 60:
        return _("à l'instant")
    if seconds < 3600:
        return _("il y a {n} min", n=int(seconds // 60))
    if seconds < 86400:
        return _("il y a {n} h", n=int(seconds // 3600))
    return _("il y a {n} j", n=int(seconds // 86400))
