"""The Textual application: wires the ports to the screens and owns the workers.

Card exchanges run in thread workers, HTTP in async workers; the reader's watch callback only
posts a message. Screens render the flow's state and call the intents below.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message

from proclient.cardreader.port import CardEvent, CardEventKind
from proclient.cps_session import CpsSessionMixin
from proclient.domain import (
    CreationReceipt,
    DomainError,
    SecretsSheet,
    VitaleCard,
    mask_email,
    mask_mobile,
)
from proclient.flow import CreationFlow, Step
from proclient.i18n import _
from proclient.logsafe import UNEXPECTED, log_unexpected
from proclient.receipt_actions import ReceiptActionsMixin
from proclient.screens.base import StepScreen
from proclient.screens.connect import ConnectScreen
from proclient.screens.consent import ConsentScreen
from proclient.screens.done import DoneScreen
from proclient.screens.home import HomeScreen
from proclient.screens.identify import IdentifyScreen
from proclient.screens.online_access import OnlineAccessScreen
from proclient.screens.summary import SummaryScreen
from proclient.wiring import ServiceBinding, Wiring

log = logging.getLogger(__name__)


# Errors after which the service may have committed: the key stays for the next attempt.
_KEEP_PENDING = {"SERVICE_UNAVAILABLE", "SERVICE_ERROR", "IDEMPOTENCY_IN_PROGRESS"}

STEP_SCREENS: dict[Step, type[StepScreen]] = {
    Step.IDENTIFY: IdentifyScreen,
    Step.CONNECT: ConnectScreen,
    Step.CONSENT: ConsentScreen,
    Step.ONLINE_ACCESS: OnlineAccessScreen,
    Step.SUMMARY: SummaryScreen,
}


class CardEventMessage(Message):
    def __init__(self, event: CardEvent) -> None:
        super().__init__()
        self.event = event


class ProclientApp(CpsSessionMixin, ReceiptActionsMixin, App):
    TITLE = "proclient"
    BINDINGS = [
        Binding("f3", "remove_demo_card", _("Retirer"), id="remove_card"),
        Binding("f4", "toggle_demo_cps", _("CPS"), id="toggle_cps"),
        Binding("ctrl+q", "quit", _("Quitter"), id="quit", show=False),
    ]

    def __init__(self, wiring: Wiring) -> None:
        super().__init__()
        self.wiring = wiring
        self.flow = CreationFlow(today=wiring.today(), ins_oid=wiring.ins_oid)
        self.reader_state = _("en attente")
        self.service_state = _("démarrage…")
        self.home_prompt = ""
        self.binding: ServiceBinding | None = None
        self.authenticated = False
        self.submitting = False
        self._service_ready = asyncio.Event()
        self._secrets: SecretsSheet | None = None
        self._receipt: CreationReceipt | None = None
        self._receipt_path: Path | None = None
        self.last_print_job = ""
        self._card_present = False
        self._reset_when_done = False
        self._init_cps_session()

    # --- life cycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.reader_state = self.wiring.patient_reader
        self.push_screen(HomeScreen())
        self.wiring.readers.watch(lambda event: self.post_message(CardEventMessage(event)))
        self._start_idle_watch()

    def on_ready(self) -> None:
        # After the first frame: the service's imports and keys must not delay the home screen.
        self.start_service()

    async def on_unmount(self) -> None:
        self.wiring.readers.unwatch()
        if self.binding is not None:
            await self.binding.client.aclose()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_demo_card":
            return self.wiring.demo
        if action == "toggle_demo_cps":
            return self.wiring.toggle_demo_cps is not None
        return True

    # --- the service ------------------------------------------------------------------------

    @work(exclusive=True, group="service", exit_on_error=False)
    async def start_service(self) -> None:
        try:
            binding = await asyncio.to_thread(self.wiring.open_service)
            await binding.client.health()
        except DomainError as error:
            self.service_state = error.message
        except Exception:
            log_unexpected(log, "service start failed")
            self.service_state = _(UNEXPECTED)
        else:
            self.binding = binding
            self.service_state = _("{what} — prêt", what=binding.description)
            self._service_ready.set()
        self._refresh_home()

    async def _service(self) -> ServiceBinding:
        try:
            await asyncio.wait_for(self._service_ready.wait(), timeout=30)
        except TimeoutError:
            raise DomainError("SERVICE_UNAVAILABLE", _(
                "Le service DMP ne répond pas : vérifiez la connexion puis réessayez.")) from None
        assert self.binding is not None
        return self.binding

    @property
    def credential_label(self) -> str:
        return self.binding.credentials.label if self.binding else _("carte CPS")

    @property
    def credential_hint(self) -> str:
        return self.binding.credentials.hint if self.binding else ""

    # --- the card -------------------------------------------------------------------------

    def on_card_event_message(self, message: CardEventMessage) -> None:
        event = message.event
        if event.kind in (CardEventKind.SERVICE_LOST, CardEventKind.SERVICE_BACK,
                          CardEventKind.READERS_CHANGED):
            self._reader_service_changed(event.kind)
            return
        if event.reader and event.reader == self.wiring.professional_reader:
            if event.kind is CardEventKind.REMOVED:
                self._cps_removed()
            return
        if event.reader != self.wiring.patient_reader:
            return
        if event.kind is CardEventKind.INSERTED:
            self._card_present = True
            self._set_reader_state(_("carte insérée"))
            self.read_card()
        elif event.kind is CardEventKind.REMOVED:
            self._card_present = False
            self._set_reader_state(_("pas de carte"))
            self._card_removed()

    def _set_reader_state(self, state: str) -> None:
        self.reader_state = _("{reader} — {state}", reader=self.wiring.patient_reader, state=state)
        self._refresh_home()

    def _reader_service_changed(self, kind: CardEventKind) -> None:
        """pcscd stopped or came back (the monitor recovers by itself), or readers changed."""
        if kind is CardEventKind.SERVICE_LOST:
            self.reader_state = _("le service des cartes (pcscd) est arrêté : relancez-le ; "
                                  "la lecture reprendra d'elle-même")
        elif kind is CardEventKind.SERVICE_BACK:
            self._set_reader_state(_("service des cartes revenu"))
            return
        self._refresh_home()

    def manual_entry(self) -> None:
        """Type the patient's identity (Vitale 1, forgotten or unreadable card)."""
        if self.submitting:
            return
        self.flow.start_manual_entry()
        self.show_step()

    def _card_removed(self) -> None:
        self.home_prompt = ""
        if self.flow.typed:
            return  # the identity is being typed: the card (a Vitale 1…) was not its source
        if self.flow.step is Step.DONE:
            return  # the accusé is saved; the secrets sheet may still be wanted: Enter ends
        if self.submitting:
            self._reset_when_done = True
            return
        had_patient = self.flow.step is not Step.HOME
        self.flow.reset()
        self.show_step()
        if had_patient:
            self.notify(_("Carte retirée : les données du patient ont été effacées de l'écran."))

    @work(thread=True, exclusive=True, group="card", exit_on_error=False)
    def read_card(self) -> None:
        from proclient.cardreader.vitale import read_vitale

        self.call_from_thread(self._set_prompt, _("Lecture de la carte Vitale…"))
        try:
            connection = self.wiring.readers.connect(self.wiring.patient_reader)
            try:
                card = read_vitale(connection)
            finally:
                connection.disconnect()
        except DomainError as error:
            self.call_from_thread(self._card_failed, error.message, error.code)
        except Exception:
            log_unexpected(log, "card read failed")
            self.call_from_thread(self._card_failed, _(UNEXPECTED))
        else:
            self.call_from_thread(self._card_read, card)

    def _set_prompt(self, text: str) -> None:
        self.home_prompt = text
        self._refresh_home()

    def _card_failed(self, message: str, code: str = "") -> None:
        if self.flow.typed:
            self.notify(message, severity="warning")  # keep what is being typed
            return
        self.flow.reset()
        self.show_step()
        # A card that cannot be read here (Vitale 1, wrong card, garbled data): offer typing.
        manual = code in ("VITALE1_UNREADABLE", "NOT_VITALE", "NO_BENEFICIARY", "MALFORMED",
                          "STATUS_WORD", "NIR_ABSENT")
        self.home_prompt = (_("Carte non lue : F6 pour saisir l'identité à la main") if manual
                            else _("Carte non lue"))
        self._refresh_home()
        self.screen.show_error(message)  # type: ignore[attr-defined]

    def _card_read(self, card: VitaleCard) -> None:
        if not self._card_present:
            return  # pulled just after the read: nothing of the patient is shown
        if card == self.flow.card and self.flow.step is not Step.HOME:
            return  # the same card reported again (pcscd came back): the work goes on
        try:
            self.flow.card_read(card)
        except DomainError as error:
            self._card_failed(error.message)
            return
        self.home_prompt = _("Carte lue : retirez-la à la fin, ou F5 pour la relire.")
        self.show_step()

    def action_remove_demo_card(self) -> None:
        if self.wiring.remove_card:
            self.wiring.remove_card()

    def insert_demo_card(self, key: str) -> None:
        if self.wiring.insert_demo_card:
            if self._card_present and self.wiring.remove_card:
                self.wiring.remove_card()
            self.wiring.insert_demo_card(key)

    # --- navigation ------------------------------------------------------------------------

    def show_step(self) -> None:
        """Put the screen of the flow's current step on top of the home screen."""
        if self.locked:
            self._step_behind_lock = True  # the lock stays on top; unlocking shows the step
            return
        step = self.flow.step
        if step is Step.HOME:
            while len(self.screen_stack) > 2:
                self.pop_screen()
            self._refresh_home()
            return
        screen_type = STEP_SCREENS[step]
        if step is Step.IDENTIFY and self.flow.typed:
            from proclient.screens.manual_entry import ManualEntryScreen

            screen_type = ManualEntryScreen
        if isinstance(self.screen, HomeScreen):
            self.push_screen(screen_type())
        else:
            self.switch_screen(screen_type())

    def go_back(self) -> None:
        if self.submitting:
            return
        self.flow.back()
        self.show_step()

    def _refresh_home(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen) and screen.is_mounted:
                screen.refresh_status()

    # --- step 2: connect ------------------------------------------------------------------

    @work(exclusive=True, group="service-call", exit_on_error=False)
    async def connect(self, pin: bytearray) -> None:
        """One login attempt with ``pin`` (wiped afterwards), then the existence test."""
        screen = self.screen
        try:
            professional = await self._authenticate(pin)
            await self._status(screen, professional)
        except DomainError as error:
            self._connect_failed(screen, error.message, locked=error.code == "PIN_LOCKED")
        except Exception:
            log_unexpected(log, "connection failed")
            self._connect_failed(screen, _(UNEXPECTED))

    @work(exclusive=True, group="service-call", exit_on_error=False)
    async def check_status(self) -> None:
        screen = self.screen
        try:
            await self._status(screen, self.flow.professional or self.session_professional)
        except DomainError as error:
            if error.code.startswith("AUTH"):
                self.authenticated = False
            self._connect_failed(screen, error.message)
        except Exception:
            log_unexpected(log, "status failed")
            self._connect_failed(screen, _(UNEXPECTED))

    async def _status(self, screen, professional) -> None:
        binding = await self._service()
        patient = self.flow.patient
        if patient is None or screen is not self.screen:
            return
        state = await binding.client.status(patient.ins)
        if self.flow.step is Step.CONNECT and screen is self.screen:
            self.flow.connected(professional, state)
            screen.connected()

    def _connect_failed(self, screen, message: str, locked: bool = False) -> None:
        if isinstance(screen, ConnectScreen) and screen is self.screen:
            screen.show_error(message)
            screen.login_failed(locked=locked)

    # --- submission and receipt -------------------------------------------------------------

    @work(exclusive=True, group="service-call", exit_on_error=False)
    async def submit(self) -> None:
        screen = self.screen
        self.submitting = True
        try:
            binding = await self._service()
            request = self.flow.request()
            key = await asyncio.to_thread(self._idempotency_key, request)
            result = await binding.client.submit(request, key)
        except DomainError as error:
            self.submitting = False
            if error.code not in _KEEP_PENDING:
                await asyncio.to_thread(self._forget_pending, request)
            screen.submit_failed(error.message)
            return
        except Exception:
            log_unexpected(log, "submission failed")
            self.submitting = False
            screen.submit_failed(_(UNEXPECTED))
            return
        await asyncio.to_thread(self._forget_pending, request)
        self.flow.completed(result)
        receipt = CreationReceipt(request, self.flow.professional, result.dmp_id, result.at,
                                  demo=self.wiring.demo)
        path, preview, error = await asyncio.to_thread(self._write_receipt, receipt)
        self.submitting = False
        if result.web and result.web.initial_password:
            web = request.web_access
            self._secrets = SecretsSheet(
                patient_name=request.patient.display_name,
                login=result.web.login,
                initial_password=result.web.initial_password,
                email_masked=mask_email(web.email) if web and web.email else None,
                mobile_masked=mask_mobile(web.mobile) if web and web.mobile else None,
                at=result.at,
            )
        self._receipt, self._receipt_path = receipt, path
        done = DoneScreen(path, preview, self._secrets is not None)
        self.switch_screen(done)
        if error:
            self.notify(error, severity="error", timeout=15)
        if self.wiring.auto_print:
            self.print_receipt()
        if self._reset_when_done:
            self._reset_when_done = False

    def _journal(self):
        from proclient.service.journal import IdempotencyJournal

        if self.wiring.pending_dir is None:
            return None
        return IdempotencyJournal(self.wiring.pending_dir)

    def _idempotency_key(self, request) -> str:
        """The key saved on disk before the request leaves: if the answer is lost (crash,
        kill, network cut after the service committed), the same request made again reuses
        it and the service replays its first answer instead of refusing a second DMP."""
        journal = self._journal()
        if journal is None:
            return self.flow.idempotency_key
        key = journal.key_for(request)
        self.flow.idempotency_key = key
        return key

    def _forget_pending(self, request) -> None:
        journal = self._journal()
        if journal is not None:
            journal.done(request)

    def finish(self) -> None:
        """End of the flow: the patient's data and secrets leave memory and screen."""
        self._secrets = None
        self._receipt = self._receipt_path = None
        self.flow.reset()
        self.home_prompt = (_("Retirez la carte Vitale du patient.") if self._card_present
                            else "")
        self.show_step()
