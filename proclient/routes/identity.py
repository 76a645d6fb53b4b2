"""Step 2 once signed in: INSi (by the card or by the traits), the document seen, the
existence test; or, with the service unreachable, the creation to be recorded offline."""

from __future__ import annotations

from dataclasses import replace

from proclient.controllers.creation import Reachability
from proclient.core.domain import DomainError
from proclient.core.flow import Step
from proclient.core.identity import traits_query
from proclient.core.typed import typed_birth_date, typed_identity, typed_sex
from proclient.messages import (
    Connected,
    DocumentChosen,
    InsiRetryRequested,
    InsiTraitsGiven,
    JobFailed,
)
from proclient.routes.desk import Desk, Route
from proclient.routes.service import ServiceRoute


class IdentityRoute(Route):
    HANDLES = {
        InsiTraitsGiven: "traits_given",
        InsiRetryRequested: "retry",
        DocumentChosen: "document_chosen",
    }

    def __init__(self, desk: Desk, service: ServiceRoute) -> None:
        super().__init__(desk)
        self.service = service
        self.session = desk.session
        self.creation = desk.creation
        self._query = None  # the last INSi look-up asked, for F5 after a failure

    async def identify_for(self, screen, query=None):
        """(INSi's answer or None, the DMP's state or None) for the patient on ``screen``.

        With an identity already checked (back from step 3, a lock undone), only the existence
        test runs again; otherwise INSi is asked first (``query``, or the flow's first look-up:
        by the card, or by the traits) and the existence test follows for the INS it found. A
        card without the beneficiary's NIR gives no sex: then nothing is asked, the screen
        shows the traits form."""
        flow = self.flow
        if flow.held is None or not self.stage.is_top(screen):
            return None, None
        if query is None and flow.identity is not None and flow.patient is not None:
            return None, await self.creation.status(flow.patient.ins)
        if query is None:
            try:
                query = flow.insi_query()
            except DomainError as error:
                if error.code == "TRAITS_INCOMPLETE":
                    return None, None
                raise
        self._query = query
        return await self.creation.identify(query)

    def check_status(self, screen, query=None, job: str = "status") -> None:
        async def identify():
            return self.session.professional, *(await self.identify_for(screen, query))

        self.jobs.run(
            job,
            identify,
            owner=screen,
            failed=self.failed,
            done=lambda answer: self.connected(screen, *answer),
        )

    def connect_shown(self, screen) -> None:
        """Step 2 is shown: signed in, ask INSi and the status; offline, say it is recorded."""
        if self.session.authenticated:
            self.check_status(screen)
        elif self.session.offline:
            self.offline_for(screen, self.session.professional)

    def failed(self, failure: JobFailed) -> None:
        """Before the screen hears of it: whether the professional is still signed in (the
        login passed and INSi or the status failed) or not (the login or the session did)."""
        if failure.code.startswith("AUTH"):
            self.session.authenticated = False
        if failure.code == "SERVICE_UNAVAILABLE":
            # The state on screen follows at once, not at the next check; signed in, then the
            # service itself gone (not INSi alone: F5 then), the creation is recorded.
            screen = self.stage.top
            self.jobs.run(
                "service-probe",
                self.creation.check,
                done=lambda state: self._maybe_offline(screen, state),
            )
        if self.flow.step is Step.CONNECT:
            session = self.session
            self.flow.professional = session.professional if session.authenticated else None

    def _maybe_offline(self, screen, state) -> None:
        self.service.checked(state)
        flow = self.flow
        if (
            state is Reachability.UNREACHABLE
            and self.desk.outbox.available
            and flow.step is Step.CONNECT
            and flow.identity is None
            and self.stage.is_top(screen)
            and self.session.fall_offline()
        ):
            self.offline_for(screen, self.session.professional)

    def offline_for(self, screen, professional) -> None:
        """Step 2 without the service: the creation will be recorded (the screen says so)."""
        if self.flow.step is not Step.CONNECT or professional is None:
            return
        if not self.flow.offline:
            self.flow.work_offline(professional)
        elif self.flow.professional is None:  # resumed after the card was put back
            self.flow.professional = professional
        self.stage.later(screen.post_message, Connected())

    def connected(self, screen, professional, answer, state) -> None:
        if self.flow.step is not Step.CONNECT or not self.stage.is_top(screen):
            return
        if self.session.offline:
            self.offline_for(screen, professional)
            return
        if answer is not None:
            self.flow.insi_answered(answer)
        if state is not None:
            self.flow.connected(professional, state)
        else:
            self.flow.professional = professional
        screen.post_message(Connected())

    # --- the intents ---------------------------------------------------------------------------

    def traits_given(self, message: InsiTraitsGiven) -> None:
        """The traits form: ask INSi by these traits (offline: keep them for the replay)."""
        screen, flow = self.stage.top, self.flow
        try:
            if flow.offline:
                typed = typed_identity(
                    message.birth_name,
                    message.first_name,
                    message.birth,
                    "",
                    flow.today,
                    sex=message.sex,
                    birthplace=message.birthplace,
                )
                held = flow.held
                assert held is not None
                flow.offline_traits(
                    replace(typed, nir=held.nir, source=held.source, rank=held.rank)
                )
                screen.post_message(Connected())
                return
            query = traits_query(
                message.birth_name,
                message.first_name,
                typed_sex(message.sex),
                typed_birth_date(message.birth, flow.today),
                message.birthplace,
            )
        except DomainError as error:
            screen.post_message(JobFailed("insi", error.code, error.message))
            return
        self.check_status(screen, query, job="insi")

    def retry(self, message: InsiRetryRequested) -> None:
        """F5 after INSi (or the service) could not be reached: the same question again.
        Recording offline, F5 tries the service again: signed in to it (without the PIN),
        the live flow goes on with INSi."""
        if self.flow.offline and self.flow.step is Step.CONNECT:
            self._back_online(self.stage.top)
            return
        self.check_status(self.stage.top, self._query if self.flow.identity is None else None)

    def _back_online(self, screen) -> None:
        binding = self.creation.binding
        if binding is None:
            return
        self.flow.leave_offline()

        async def online():
            if self.session.offline:
                await self.session.go_online(binding.client)
            return self.session.professional, *(await self.identify_for(screen))

        self.jobs.run(
            "insi",
            online,
            owner=screen,
            failed=self.failed,
            done=lambda answer: self.connected(screen, *answer),
        )

    def document_chosen(self, message: DocumentChosen) -> None:
        screen = self.stage.top
        try:
            self.flow.document_seen(message.document)
        except DomainError as error:
            screen.post_message(JobFailed("document", error.code, error.message))
            return
        screen.post_message(Connected())
