"""The patient's card: inserted, read, pulled (and put back in time), unreadable (then typed),
the card service (pcscd) gone and back; and the demo's cards."""

from __future__ import annotations

from textual.message import Message

from proclient.cardreader.port import CardEvent, CardEventKind
from proclient.controllers.card import MANUAL_ENTRY_CODES, Slot
from proclient.core.domain import DomainError, VitaleCard
from proclient.core.flow import Step
from proclient.core.i18n import _
from proclient.messages import (
    CardRereadRequested,
    DemoCardInsertRequested,
    JobFailed,
    ManualEntryRequested,
    ResumeAnswered,
)
from proclient.routes.desk import Desk, HomeBoard, Route
from proclient.routes.steps import StepsRoute


class CardEventMessage(Message):
    """A card event from the reader's thread (its callback only posts this)."""

    def __init__(self, event: CardEvent) -> None:
        super().__init__()
        self.event = event


class CardsRoute(Route):
    HANDLES = {
        DemoCardInsertRequested: "insert_requested",
        CardRereadRequested: "reread",
        ManualEntryRequested: "manual_entry",
        ResumeAnswered: "resume_answered",
    }

    def __init__(self, desk: Desk, board: HomeBoard, steps: StepsRoute) -> None:
        super().__init__(desk)
        self.board = board
        self.steps = steps
        self.cards = desk.cards
        self.session = desk.session
        self.on_cps_removed = lambda: None  # set by the session route

    # --- what the reader says ------------------------------------------------------------------

    def card_event(self, event: CardEvent) -> None:
        slot = self.cards.slot_of(event)
        if slot is Slot.SERVICE:
            self._reader_service_changed(event.kind)
        elif slot is Slot.PROFESSIONAL:
            if event.kind is CardEventKind.REMOVED:
                self.on_cps_removed()
        elif slot is Slot.PATIENT:
            if event.kind is CardEventKind.INSERTED:
                self._reader_state(_("carte insérée"))
                self.read()
            elif event.kind is CardEventKind.REMOVED:
                self._reader_state(_("pas de carte"))
                self._removed()

    def _reader_state(self, state: str) -> None:
        self.board.reader = _(
            "{reader} — {state}", reader=self.desk.wiring.patient_reader, state=state
        )
        self.board.refresh()

    def _reader_service_changed(self, kind: CardEventKind) -> None:
        """pcscd stopped or came back (the monitor recovers by itself), or readers changed."""
        if kind is CardEventKind.SERVICE_LOST:
            self.board.reader = _(
                "le service des cartes (pcscd) est arrêté : relancez-le ; "
                "la lecture reprendra d'elle-même"
            )
        elif kind is CardEventKind.SERVICE_BACK:
            self._reader_state(_("service des cartes revenu"))
            return
        self.board.refresh()

    # --- reading -------------------------------------------------------------------------------

    def read(self) -> None:
        self.board.prompt = _("Lecture de la carte Vitale…")
        self.board.refresh()
        self.jobs.run("card", self.cards.read, thread=True, done=self._read, failed=self._failed)

    def reread(self, message: CardRereadRequested) -> None:
        self.read()

    def _failed(self, failure: JobFailed) -> None:
        if self.flow.typed:
            self.stage.notify(failure.message, "warning")  # keep what is being typed
            return
        self.flow.reset()
        self.steps.show()
        # A card that cannot be read here (Vitale 1, wrong card, garbled data): offer typing.
        self.board.prompt = (
            _("Carte non lue : F6 pour saisir l'identité à la main")
            if failure.code in MANUAL_ENTRY_CODES
            else _("Carte non lue")
        )
        self.board.refresh()
        self.stage.top.post_message(failure)

    def _read(self, card: VitaleCard) -> None:
        if not self.cards.present:
            return  # pulled just after the read: nothing of the patient is shown
        if card == self.flow.card and self.flow.step is not Step.HOME:
            return  # the same card reported again (pcscd came back): the work goes on
        try:
            self.flow.card_read(card)
        except DomainError as error:
            self._failed(JobFailed("card", error.code, error.message))
            return
        self.stage.clear_notices()  # a new patient: the last one's toasts go
        self.board.prompt = _("Carte lue : retirez-la à la fin, ou F5 pour la relire.")
        kept = self.cards.pulled_for(card)
        self.steps.show()
        if kept is not None and not self.session.locked:
            from proclient.screens.resume import ResumeModal

            self.stage.push(ResumeModal(kept.display_name, int(kept.step)))

    # --- pulled, and put back ------------------------------------------------------------------

    def _removed(self) -> None:
        self.board.prompt = ""
        if self.flow.typed:
            return  # the identity is being typed: the card (a Vitale 1…) was not its source
        if self.flow.step is Step.DONE or self.desk.paper.secrets is not None:
            return  # the accusé is saved, or a codes sheet is on screen: Enter ends
        if self.desk.creation.in_flight:
            return  # the creation in flight ends on its accusé; Enter then clears it all
        had_patient = self.flow.step is not Step.HOME
        kept = self.flow.set_aside()  # the step's draft is in the flow already (drafted)
        if kept is not None:
            self.cards.keep_pulled(kept)
        self.steps.show()
        if kept is not None:
            self.stage.notify(
                _(
                    "Carte retirée : les données du patient ont été effacées de l'écran. "
                    "Remettez la même carte dans les 2 minutes pour reprendre."
                )
            )
        elif had_patient:
            self.stage.notify(
                _("Carte retirée : les données du patient ont été effacées de l'écran.")
            )

    def resume_answered(self, message: ResumeAnswered) -> None:
        """Enter resumes the flow kept when the card was pulled; Esc starts afresh (step 1)."""
        from proclient.screens.resume import ResumeModal

        self.stage.close(ResumeModal)
        kept = self.cards.take_pulled()
        if kept is None:
            return
        if message.resume and self.flow.step is Step.IDENTIFY and kept.card == self.flow.card:
            self.flow.resume(kept)
            session = self.session
            signed_in = session.authenticated or (session.offline and self.flow.offline)
            self.flow.professional = session.professional if signed_in else None
            self.steps.show()
        kept.reset()

    def expire_pulled_card(self) -> None:
        """The card pulled was not put back in time: what was kept leaves memory (a timer)."""
        from proclient.screens.resume import ResumeModal

        if self.cards.expire_pulled():
            self.stage.close(ResumeModal)

    # --- typing instead, and the demo's cards --------------------------------------------------

    def manual_entry(self, message: ManualEntryRequested) -> None:
        if self.desk.creation.in_flight:
            return
        self.flow.start_manual_entry()
        self.stage.clear_notices()  # a new patient: the last one's toasts go
        self.steps.show()

    def insert_requested(self, message: DemoCardInsertRequested) -> None:
        self.insert_demo_card(message.key)

    def insert_demo_card(self, key: str) -> None:
        if self.desk.wiring.deck is not None:
            self.desk.wiring.deck.insert(key)

    def remove_demo_card(self) -> None:
        if self.desk.wiring.deck is not None:
            self.desk.wiring.deck.remove()

    def toggle_demo_cps(self) -> None:
        if self.desk.wiring.deck is not None:
            self.desk.wiring.deck.toggle_cps()
