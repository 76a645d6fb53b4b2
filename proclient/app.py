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
from proclient.logsafe import log_unexpected
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

UNEXPECTED = "Erreur inattendue : l'opération n'a pas abouti. Le détail technique est dans le journal."

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


class ProclientApp(App):
    TITLE = "proclient"
    BINDINGS = [
        Binding("f3", "remove_demo_card", _("Retirer (démo)"), id="remove_card"),
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
        self._card_present = False
        self._reset_when_done = False

    # --- life cycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.reader_state = self.wiring.patient_reader
        self.push_screen(HomeScreen())
        self.wiring.readers.watch(lambda event: self.post_message(CardEventMessage(event)))

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
        if event.reader != self.wiring.patient_reader:
            return
        if event.kind is CardEventKind.INSERTED:
            self._card_present = True
            self.read_card()
        elif event.kind is CardEventKind.REMOVED:
            self._card_present = False
            self._card_removed()

    def _card_removed(self) -> None:
        self.home_prompt = ""
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
            self.call_from_thread(self._card_failed, error.message)
        except Exception:
            log_unexpected(log, "card read failed")
            self.call_from_thread(self._card_failed, _(UNEXPECTED))
        else:
            self.call_from_thread(self._card_read, card)

    def _set_prompt(self, text: str) -> None:
        self.home_prompt = text
        self._refresh_home()

    def _card_failed(self, message: str) -> None:
        self.flow.reset()
        self.show_step()
        self.home_prompt = _("Carte non lue")
        self._refresh_home()
        self.screen.show_error(message)  # type: ignore[attr-defined]

    def _card_read(self, card: VitaleCard) -> None:
        if not self._card_present:
            return  # pulled just after the read: nothing of the patient is shown
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
        step = self.flow.step
        if step is Step.HOME:
            while len(self.screen_stack) > 2:
                self.pop_screen()
            self._refresh_home()
            return
        screen_type = STEP_SCREENS[step]
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
    async def connect(self, pin: str) -> None:
        screen = self.screen
        try:
            binding = await self._service()
            credential = await asyncio.to_thread(binding.credentials.unlock, pin)
            del pin
            professional = await binding.client.login(credential)
            self.authenticated = True
            await self._status(screen, professional)
        except DomainError as error:
            self._connect_failed(screen, error.message)
        except Exception:
            log_unexpected(log, "connection failed")
            self._connect_failed(screen, _(UNEXPECTED))

    @work(exclusive=True, group="service-call", exit_on_error=False)
    async def check_status(self) -> None:
        screen = self.screen
        try:
            await self._status(screen, self.flow.professional)
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

    def _connect_failed(self, screen, message: str) -> None:
        if isinstance(screen, ConnectScreen) and screen is self.screen:
            screen.show_error(message)
            screen.login_failed()

    # --- submission and receipt -------------------------------------------------------------

    @work(exclusive=True, group="service-call", exit_on_error=False)
    async def submit(self) -> None:
        screen = self.screen
        self.submitting = True
        try:
            binding = await self._service()
            request = self.flow.request()
            result = await binding.client.submit(request, self.flow.idempotency_key)
        except DomainError as error:
            self.submitting = False
            screen.submit_failed(error.message)
            return
        except Exception:
            log_unexpected(log, "submission failed")
            self.submitting = False
            screen.submit_failed(_(UNEXPECTED))
            return
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
        done = DoneScreen(path, preview, self._secrets is not None)
        self.switch_screen(done)
        if error:
            self.notify(error, severity="error", timeout=15)
        if self._reset_when_done:
            self._reset_when_done = False

    def _write_receipt(self, receipt: CreationReceipt) -> tuple[Path | None, str, str]:
        from proclient.receipts.pdf import render_receipt
        from proclient.receipts.store import save_receipt
        from proclient.receipts.text import receipt_text

        preview = receipt_text(receipt)
        try:
            pdf = render_receipt(receipt, page=self.wiring.receipt_format)
            path = save_receipt(pdf, receipt, self.wiring.receipts_dir)
        except OSError:
            log_unexpected(log, "receipt not saved")
            return None, preview, _(
                "L'accusé de création n'a pas pu être enregistré dans {dir} : vérifiez les "
                "droits et l'espace disque.", dir=self.wiring.receipts_dir)
        return path, preview, ""

    @work(thread=True, exclusive=True, group="secrets", exit_on_error=False)
    def print_secrets_sheet(self) -> None:
        """The sheet goes to the printer through lp's standard input: no file, ever (HOM 112)."""
        sheet = self._secrets
        if sheet is None:
            return
        from proclient.receipts.pdf import render_secrets
        from proclient.receipts.printing import print_pdf

        try:
            job = print_pdf(render_secrets(sheet, page=self.wiring.receipt_format,
                                           demo=self.wiring.demo))
        except DomainError as error:
            self.call_from_thread(self.notify, error.message, severity="error", timeout=15)
            return
        except Exception:
            log_unexpected(log, "secrets sheet not printed")
            self.call_from_thread(self.notify, _(UNEXPECTED), severity="error")
            return
        self.call_from_thread(self.notify, _("Feuille de codes envoyée à l'imprimante (tâche {job}).", job=job))

    @property
    def secrets_sheet(self) -> SecretsSheet | None:
        return self._secrets

    def finish(self) -> None:
        """End of the flow: the patient's data and secrets leave memory and screen."""
        self._secrets = None
        self.flow.reset()
        self.home_prompt = (_("Retirez la carte Vitale du patient.") if self._card_present
                            else "")
        self.show_step()
