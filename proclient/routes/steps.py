"""The four steps and the summary: which screen shows the flow's step, and the intents that
move the flow (a beneficiary chosen, an identity typed, the consent, the online access, back,
the next patient). The flow checks every rule; a refusal goes back to the screen that asked."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from proclient.core.domain import DomainError, WebAccess, make_legal_representative
from proclient.core.flow import Step, WebDraft
from proclient.core.i18n import _
from proclient.core.typed import typed_identity
from proclient.messages import (
    BackRequested,
    BeneficiaryChosen,
    ConnectionConfirmed,
    ConsentDrafted,
    ConsentGiven,
    IdentityTyped,
    JobFailed,
    NextPatientRequested,
    WaitCancelRequested,
    WebAccessChosen,
    WebAccessDrafted,
)
from proclient.routes.desk import Desk, HomeBoard, Route
from proclient.routes.paper import PaperRoute
from proclient.screens.base import StepScreen

# Each step's screen module, imported when first shown (the home screen comes up faster).
STEP_SCREENS = {
    Step.IDENTIFY: ("identify", "IdentifyScreen"),
    Step.CONNECT: ("connect", "ConnectScreen"),
    Step.CONSENT: ("consent", "ConsentScreen"),
    Step.ONLINE_ACCESS: ("online_access", "OnlineAccessScreen"),
    Step.SUMMARY: ("summary", "SummaryScreen"),
}


def step_screen(step: Step, typed: bool = False) -> type[StepScreen]:
    module, name = ("manual_entry", "ManualEntryScreen") if typed else STEP_SCREENS[step]
    return getattr(importlib.import_module(f"proclient.screens.{module}"), name)


class StepsRoute(Route):
    HANDLES = {
        BackRequested: "back",
        BeneficiaryChosen: "beneficiary_chosen",
        IdentityTyped: "identity_typed",
        ConnectionConfirmed: "connection_confirmed",
        ConsentGiven: "consent_given",
        ConsentDrafted: "consent_drafted",
        WebAccessChosen: "web_access_chosen",
        WebAccessDrafted: "web_access_drafted",
        NextPatientRequested: "next_patient",
        WaitCancelRequested: "wait_cancelled",
    }

    def __init__(self, desk: Desk, board: HomeBoard, paper: PaperRoute) -> None:
        super().__init__(desk)
        self.board, self.paper = board, paper
        self.behind_lock = False  # the flow moved while locked (a card pulled, read)
        self._places_read = False
        # Step 2 just shown: the session route asks INSi and the existence test (set there).
        self.on_connect_shown: Callable[[StepScreen], None] = lambda screen: None

    def show(self) -> None:
        """Put the screen of the flow's current step on top of the home screen."""
        if self.desk.session.locked:
            self.behind_lock = True  # the lock stays on top; unlocking shows the step
            return
        step = self.flow.step
        if step is Step.HOME:
            self.stage.home()
            self.board.refresh()
            return
        if step in (Step.IDENTIFY, Step.CONNECT):
            self._read_places()
        kind = step_screen(step, typed=step is Step.IDENTIFY and self.flow.typed)
        screen = kind(self.flow, self.desk.context())
        self.stage.show(screen)
        if step is Step.CONNECT:
            self.on_connect_shown(screen)

    def _read_places(self) -> None:
        """The places of birth (the COG, ~0.5 s to read) in a thread while step 1 or 2 is on
        screen, before a birthplace is typed: the first key in that field does not wait."""
        if self._places_read:
            return
        self._places_read = True
        from proclient.core import places

        self.jobs.run("places", places.data_vintage, thread=True)

    def finish(self) -> None:
        """End of the flow: the patient's data and secrets leave memory and screen."""
        self.desk.paper.clear()
        self.flow.reset()
        self.stage.clear_notices()  # nothing of this patient stays on screen, toasts included
        present = self.desk.cards.present
        self.board.prompt = _("Retirez la carte Vitale du patient.") if present else ""
        self.show()

    def _apply(self, change: Callable[[], None]) -> bool:
        """Apply one change to the flow; a refusal goes back to the screen that asked."""
        screen = self.stage.top
        try:
            change()
        except DomainError as error:
            screen.post_message(JobFailed("flow", error.code, error.message))
            return False
        self.show()
        return True

    # --- the intents ---------------------------------------------------------------------------

    def back(self, message: BackRequested) -> None:
        if self.desk.creation.in_flight:
            return
        self.flow.back()
        self.show()

    def wait_cancelled(self, message: WaitCancelRequested) -> None:
        """Esc while a screen waits for the service: its jobs stop (and a send of the outbox
        asked from its screen). A write stopped half-way keeps its idempotency key: sent
        again, it is not doubled."""
        from proclient.screens.outbox import OutboxScreen

        screen = self.stage.top
        self.jobs.cancel(screen, *(("outbox-send",) if isinstance(screen, OutboxScreen) else ()))

    def next_patient(self, message: NextPatientRequested) -> None:
        self.paper.before_leaving(self.finish)

    def beneficiary_chosen(self, message: BeneficiaryChosen) -> None:
        def change() -> None:
            if message.index is None:
                raise DomainError("BENEFICIARY", _("Choisissez un bénéficiaire dans la liste."))
            self.flow.choose_beneficiary(message.index)
            self.flow.confirm_identity()

        self._apply(change)

    def identity_typed(self, message: IdentityTyped) -> None:
        flow = self.flow

        def change() -> None:
            held = typed_identity(
                message.last_name,
                message.first_name,
                message.birth,
                message.nir,
                flow.today,
                sex=message.sex,
                birthplace=message.birthplace,
            )
            flow.identity_typed(held)
            flow.confirm_identity()

        self._apply(change)

    def connection_confirmed(self, message: ConnectionConfirmed) -> None:
        self._apply(self.flow.confirm_connection)

    def consent_given(self, message: ConsentGiven) -> None:
        def change() -> None:
            representative = None
            if self.flow.needs_legal_representative and message.consent.creation:
                representative = make_legal_representative(
                    message.relationship,
                    message.representative_last_name,
                    message.representative_first_name,
                )
            self.flow.set_consent(message.consent, representative)

        self._apply(change)

    def web_access_chosen(self, message: WebAccessChosen) -> None:
        def change() -> None:
            web = WebAccess.from_input(message.email, message.mobile) if message.wanted else None
            self.flow.set_web_access(web)

        self._apply(change)

    def consent_drafted(self, message: ConsentDrafted) -> None:
        if self.flow.step is Step.CONSENT:
            self.flow.keep_consent_draft(message.draft)

    def web_access_drafted(self, message: WebAccessDrafted) -> None:
        if self.flow.step is Step.ONLINE_ACCESS:
            self.flow.keep_web_draft(WebDraft(message.wanted, message.email, message.mobile))
