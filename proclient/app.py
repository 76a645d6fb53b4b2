"""The Textual App as a router: intents from the screens → the flow → controllers → screens.

The App owns the creation flow (a pure state machine) and four controllers (card, session,
creation, paper). Screens post intents (proclient/messages.py); the handlers below apply them
to the flow, start the controllers' I/O as jobs (proclient/jobs.py: one runner, one error
policy) and change screens. Results reach the screen that asked as messages. The reader's
watch callback only posts a message.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from proclient.cardreader.port import CardEvent, CardEventKind
from proclient.controllers.card import MANUAL_ENTRY_CODES, CardController, Slot
from proclient.controllers.creation import CreationController, Reachability
from proclient.controllers.outbox import OutboxController, receipt_filer, send_lock_path
from proclient.controllers.paper import PaperController
from proclient.controllers.session import SessionController
from proclient.core.domain import DomainError, VitaleCard, make_legal_representative
from proclient.core.flow import CreationFlow, Step, WebDraft
from proclient.core.i18n import N_, _
from proclient.core.records import CreationReceipt
from proclient.core.typed import typed_birth_date, typed_identity, typed_sex
from proclient.jobs import JobRunner
from proclient.messages import (
    BackRequested,
    BeneficiaryChosen,
    CardRereadRequested,
    Connected,
    ConnectionConfirmed,
    ConsentDrafted,
    ConsentGiven,
    CreateRequested,
    DemoCardInsertRequested,
    DemoCpsUnblockRequested,
    DocumentChosen,
    HomeStatus,
    IdentityTyped,
    InsiRetryRequested,
    InsiTraitsGiven,
    JobFailed,
    JournalLoaded,
    JournalLoadRequested,
    JournalRequested,
    ManualEntryRequested,
    NextPatientRequested,
    OutboxAcceptRequested,
    OutboxDetailLoaded,
    OutboxDetailRequested,
    OutboxDropRequested,
    OutboxLoaded,
    OutboxLoadRequested,
    OutboxRequested,
    OutboxSendRequested,
    PasswordReissueRequested,
    PinEntered,
    PinStatusRead,
    PinStatusRequested,
    ReceiptPrintRequested,
    RecordRequested,
    ResumeAnswered,
    SecretsPrintRequested,
    SecretsShowRequested,
    SessionCloseRequested,
    SlipPrintRequested,
    WebAccessChosen,
    WebAccessDrafted,
)
from proclient.ports import Wiring
from proclient.screens.base import ScreenContext, StepScreen
from proclient.screens.home import HomeScreen
from proclient.widgets.theme import apply_theme

log = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 5.0
TOAST_SECONDS = 5.0  # a notice
TOAST_MAX_SECONDS = 10.0  # an error: longer, never so long that it covers the next patient's hints
_ACTIVITY = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)

# Each step's screen module, imported when first shown (the home screen comes up faster).
STEP_SCREENS = {
    Step.IDENTIFY: ("identify", "IdentifyScreen"),
    Step.CONNECT: ("connect", "ConnectScreen"),
    Step.CONSENT: ("consent", "ConsentScreen"),
    Step.ONLINE_ACCESS: ("online_access", "OnlineAccessScreen"),
    Step.SUMMARY: ("summary", "SummaryScreen"),
}


def step_screen(step: Step, typed: bool = False) -> type[StepScreen]:
    import importlib

    module, name = ("manual_entry", "ManualEntryScreen") if typed else STEP_SCREENS[step]
    return getattr(importlib.import_module(f"proclient.screens.{module}"), name)


class CardEventMessage(Message):
    def __init__(self, event: CardEvent) -> None:
        super().__init__()
        self.event = event


class ProclientApp(App):
    TITLE = "proclient"
    BINDINGS = [
        Binding("f3", "remove_demo_card", _("Retirer"), id="remove_card"),
        Binding("f4", "toggle_demo_cps", _("CPS"), id="toggle_cps"),
        Binding("f12", "toggle_demo_network", _("Réseau"), id="toggle_network"),
        Binding("ctrl+q", "quit", _("Quitter"), id="quit", show=False),
        # The screens answer F1 themselves; this one is for those that do not (the lock screen).
        Binding("f1", "help", _("Aide"), id="help_anywhere"),
        Binding(
            "ctrl+p", "command_palette", _("Commandes"), id="palette", show=False, priority=True
        ),
    ]
    NOTIFICATION_TIMEOUT = TOAST_SECONDS

    def run(self, *args, **kwargs):  # type: ignore[override]
        """Textual's run, after moving what start-up made (modules, classes, settings, all
        alive as long as the app) out of the garbage collector's reach: otherwise the first
        full collection walks it while the first frame is built (about 30 ms of a cold start,
        see benchmarks/startup.py)."""
        gc.freeze()
        return super().run(*args, **kwargs)

    def __init__(self, wiring: Wiring) -> None:
        super().__init__()
        apply_theme(self)  # AA contrast, and focus/selection that read without colour
        self.wiring = wiring
        self.flow = CreationFlow(today=wiring.today())
        self.cards = CardController(
            wiring.readers, wiring.patient_reader, wiring.professional_reader, wiring.clock
        )
        self.session = SessionController(wiring.clock, wiring.idle_lock_minutes)
        self.creation = CreationController(wiring.open_service, wiring.pending_dir)
        self.paper = PaperController(
            wiring.receipts_dir,
            wiring.receipt_format,
            wiring.printer,
            wiring.auto_print,
            wiring.demo,
        )
        self.outbox = OutboxController(
            wiring.outbox, wiring.today, lock_path=send_lock_path(wiring.outbox)
        )
        self.jobs = JobRunner(self)
        self.reader_state = wiring.patient_reader
        self.service_state = _("démarrage…")
        self.home_prompt = ""
        self.creating = False  # from Enter on the summary until the accusé is saved
        self._step_behind_lock = False  # the flow moved while locked (a card pulled, read)
        self._insi_query = None  # the last INSi look-up asked, for F5 after a failure
        self._tampered_said: set[str] = set()  # outbox entries already reported as changed
        if wiring.keymap:
            self.set_keymap(dict(wiring.keymap))

    # --- what the tests and the command palette look at --------------------------------------

    @property
    def binding(self):
        return self.creation.binding

    @property
    def authenticated(self) -> bool:
        return self.session.authenticated

    @property
    def locked(self) -> bool:
        return self.session.locked

    @property
    def submitting(self) -> bool:
        return self.creating

    @property
    def _credential(self):
        return self.session.credential

    @property
    def secrets_sheet(self):
        return self.paper.secrets

    _secrets = secrets_sheet

    @property
    def last_print_job(self) -> str:
        return self.paper.last_job

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity="information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast, as plain text by default (a settings key such as ``[printer] name`` must not
        be read as markup), shown ``TOAST_MAX_SECONDS`` at most."""
        timeout = min(timeout if timeout is not None else TOAST_SECONDS, TOAST_MAX_SECONDS)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def action_help(self) -> None:
        """F1 on a screen without its own help: its ``HELP_TEXT`` and its keys."""
        from proclient.widgets.help import HelpModal

        screen = self.screen
        if isinstance(screen, HelpModal):
            return
        title = _(getattr(screen, "title_text", "")) or self.TITLE
        self.push_screen(HelpModal(title, _(getattr(screen, "HELP_TEXT", "")), screen))

    # --- life cycle ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return HomeScreen(self._screen_context())

    def on_mount(self) -> None:
        self._refresh_home()
        self.cards.watch(lambda event: self.post_message(CardEventMessage(event)))
        self.set_interval(IDLE_CHECK_SECONDS, self.check_idle_lock)
        self.set_interval(IDLE_CHECK_SECONDS, self.expire_pulled_card)

    def on_ready(self) -> None:
        # After the first frame: the service's imports and keys must not delay the home screen.
        if self.outbox.available:
            self.refresh_outbox()
        self.jobs.run(
            "service-start",
            self.creation.start,
            done=self._service_started,
            failed=self._service_failed,
        )

    async def on_unmount(self) -> None:
        self.cards.unwatch()
        await self.creation.aclose()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _ACTIVITY) and not event.is_forwarded:
            self.session.touch()
        await super().on_event(event)

    def _service_started(self, binding) -> None:
        self._service_checked(self.creation.probe.state)

    def _service_failed(self, failure: JobFailed) -> None:
        self.service_state = failure.message
        self._refresh_home()

    # --- the service's state: a health probe with back-off ------------------------------------

    def probe_service(self) -> None:
        """A health check now (then again after the probe's back-off)."""
        if self.creation.binding is None:
            return
        self.jobs.run("service-probe", self.creation.check, done=self._service_checked)

    def _service_checked(self, _state) -> None:
        binding = self.creation.binding
        label = self.creation.probe.label()
        what = binding.description if binding is not None else ""
        self.service_state = _("{what} — {state}", what=what, state=label)
        timer = getattr(self, "_probe_timer", None)
        if timer is not None:
            timer.stop()
        self._probe_timer = self.set_timer(self.creation.probe.next_delay(), self.probe_service)
        self._refresh_home()
        from proclient.widgets.topbar import TopBar

        for screen in self.screen_stack:
            for bar in screen.query(TopBar):
                bar.show_service(label)
        self._outbox_refreshed()  # what the outbox screen says depends on the service's state
        if self.creation.probe.state is Reachability.REACHABLE:
            self._service_back()

    # --- creations recorded offline -----------------------------------------------------------

    def refresh_outbox(self) -> None:
        """Read the outbox list again (a thread: files and decryption), then say so."""
        self.jobs.run(
            "outbox-list",
            self.outbox.refresh,
            thread=True,
            done=self._outbox_refreshed,
            failed=lambda failure: self.notify(
                failure.message, severity="error", timeout=TOAST_MAX_SECONDS
            ),
        )

    def _outbox_refreshed(self, _summaries=None) -> None:
        self._refresh_home()
        from proclient.screens.outbox import OutboxScreen

        for screen in self.screen_stack:
            if isinstance(screen, OutboxScreen):
                screen.post_message(self._outbox_loaded())

    def _outbox_loaded(self) -> OutboxLoaded:
        can_send, why = self._can_send()
        needs_pin = (
            not can_send
            and self.creation.probe.state is Reachability.REACHABLE
            and not self.session.authenticated
        )
        return OutboxLoaded(list(self.outbox.summaries), can_send, why, needs_pin)

    def _can_send(self) -> tuple[bool, str]:
        if self.creation.probe.state is not Reachability.REACHABLE:
            return False, _(
                "Service DMP : {state} ; les créations seront envoyées dès qu'il répondra.",
                state=self.creation.probe.label(),
            )
        if not self.session.authenticated:
            return False, _("Saisissez votre code porteur pour les envoyer.")
        return True, ""

    def outbox_line(self) -> str:
        """The home screen's line: how many creations wait, since when."""
        n = self.outbox.pending
        if not n:
            return ""
        oldest = self.outbox.oldest
        if oldest is None:
            return _("Créations enregistrées en attente : {n} — F7 pour les voir.", n=n)
        return _(
            "Créations enregistrées en attente : {n} (la plus ancienne : {age}, le {when}) — "
            "F7 pour les voir.",
            n=n,
            age=age_in_words(oldest),
            when=oldest.astimezone().strftime("%d/%m à %H:%M"),
        )

    def _service_back(self) -> None:
        """The service answers: an offline session opens its service session (the card is
        still unlocked), then what waits in the outbox is sent."""
        if self.session.offline and self.creation.binding is not None:
            client = self.creation.binding.client

            async def online():
                return await self.session.go_online(client)

            self.jobs.run("go-online", online, done=lambda _p: self.send_outbox())
            return
        self.send_outbox()

    def send_outbox(self, entry_id: str | None = None, quiet: bool = True) -> None:
        """Send the pending entries (or ``entry_id``) when a session is open and the service
        answers; ``quiet``: a background run says nothing when there was nothing to send."""
        if not self.outbox.available or self.creating:
            return
        if entry_id is None and not self.outbox.pending:
            return
        can_send, why = self._can_send()
        if not can_send:
            if not quiet:
                self.notify(why)
            return
        binding = self.creation.binding
        professional = self.session.professional
        if binding is None or professional is None:
            return
        on_created = receipt_filer(self.paper, professional, self.wiring.demo)

        async def send():
            return await self.outbox.send(binding.client, professional, on_created, only=entry_id)

        def sent(report) -> None:
            self._outbox_refreshed()
            self._say_sent(report, quiet)

        def failed(failure: JobFailed) -> None:
            self.notify(failure.message, severity="error", timeout=TOAST_MAX_SECONDS)
            self.refresh_outbox()

        self.jobs.run("outbox-send", send, done=sent, failed=failed)

    def _say_sent(self, report, quiet: bool) -> None:
        parts = []
        if report.created:
            parts.append(
                _(
                    "{n} DMP créé(s) depuis les créations enregistrées, accusé(s) édité(s).",
                    n=len(report.created),
                )
            )
        if report.held:
            parts.append(
                _("{n} création(s) retenue(s) : F7 sur l'accueil dit pourquoi.", n=len(report.held))
            )
        tampered = [i for i in report.tampered if not quiet or i not in self._tampered_said]
        self._tampered_said.update(report.tampered)  # a background run says each once
        if tampered:
            parts.append(
                _(
                    "{n} création(s) enregistrée(s) modifiée(s) sur le disque : refusée(s), non "
                    "envoyée(s).",
                    n=len(tampered),
                )
            )
        if report.others and not quiet:
            parts.append(
                _(
                    "{n} création(s) d'un autre professionnel laissée(s) : seul ce professionnel "
                    "peut les envoyer.",
                    n=report.others,
                )
            )
        if report.stopped is not None:
            parts.append(report.stopped.message)
        if parts:
            severity = "warning" if (report.held or tampered or report.stopped) else "information"
            self.notify(" ".join(parts), severity=severity, timeout=TOAST_MAX_SECONDS)
        elif not quiet:
            self.notify(_("Aucune création à envoyer."))

    def on_outbox_requested(self, message: OutboxRequested) -> None:
        from proclient.screens.outbox import OutboxScreen

        if not self.outbox.available:
            return
        self.push_screen(OutboxScreen(self._screen_context()))

    def on_outbox_load_requested(self, message: OutboxLoadRequested) -> None:
        self.refresh_outbox()

    def on_outbox_send_requested(self, message: OutboxSendRequested) -> None:
        self.send_outbox(message.entry_id, quiet=False)

    def on_outbox_accept_requested(self, message: OutboxAcceptRequested) -> None:
        def accepted(_none) -> None:
            self.send_outbox(message.entry_id, quiet=False)

        self.jobs.run(
            "outbox-accept",
            lambda: self.outbox.accept(message.entry_id),
            thread=True,
            owner=self.screen,
            done=accepted,
        )

    def on_outbox_drop_requested(self, message: OutboxDropRequested) -> None:
        self.jobs.run(
            "outbox-drop",
            lambda: self.outbox.drop(message.entry_id),
            thread=True,
            owner=self.screen,
            done=lambda _none: self._outbox_refreshed(),
        )

    def on_outbox_detail_requested(self, message: OutboxDetailRequested) -> None:
        from proclient.controllers.outbox import detail_lines

        screen = self.screen
        self.jobs.run(
            "outbox-detail",
            lambda: detail_lines(
                message.entry_id, self.outbox.get(message.entry_id), self.outbox.summaries
            ),
            thread=True,
            owner=screen,
            done=lambda lines: screen.post_message(OutboxDetailLoaded(message.entry_id, lines)),
        )

    async def action_quit(self) -> None:
        """Ctrl+Q / F10: with creations still recorded, say they stay and ask first."""
        if self.outbox.pending and not getattr(self, "_quit_confirmed", False):
            from proclient.screens.outbox import QuitModal

            def answered(quit_now: bool | None) -> None:
                if quit_now:
                    self._quit_confirmed = True
                    self.exit()

            self.push_screen(QuitModal(self.outbox.pending), answered)
            return
        self.exit()

    @property
    def service_label(self) -> str:
        """The service's state in words, for the step header."""
        return self.creation.probe.label()

    def _screen_context(self) -> ScreenContext:
        binding = self.creation.binding
        deck = self.wiring.deck
        return ScreenContext(
            demo=self.wiring.demo,
            demo_cards=deck.choices if deck is not None else (),
            printer=self.wiring.printer,
            auto_print=self.wiring.auto_print,
            credential_label=binding.credentials.label if binding else _("carte CPS"),
            credential_hint=binding.credentials.hint if binding else "",
            authenticated=self.session.authenticated,
            offline_session=self.session.offline,
            outbox=self.outbox.available,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("remove_demo_card", "toggle_demo_cps"):
            return self.wiring.deck is not None
        if action == "toggle_demo_network":
            return self.wiring.network is not None
        return True

    def get_system_commands(self, screen: Screen):
        """The command palette lists the application's own actions, in French."""
        from proclient.screens.done import DoneScreen

        for binding, action, title, help_text in (
            (
                True,
                "screen.help",
                _("Aide de l'écran"),
                _("Ce que fait cet écran et ses touches (F1)"),
            ),
            (
                isinstance(screen, HomeScreen),
                "screen.journal",
                _("Journal des accusés"),
                _("Réimprimer un accusé enregistré sur ce poste (F9)"),
            ),
            (
                isinstance(screen, HomeScreen),
                "screen.manual_entry",
                _("Saisie manuelle de l'identité"),
                _("Vitale 1, carte oubliée ou illisible (F6)"),
            ),
            (
                isinstance(screen, HomeScreen),
                "screen.reread",
                _("Relire la carte Vitale"),
                _("Lire à nouveau la carte du lecteur patient (F5)"),
            ),
            (
                isinstance(screen, DoneScreen),
                "screen.print_receipt",
                _("Imprimer l'accusé"),
                _("Envoyer l'accusé à l'imprimante (F5)"),
            ),
            (
                isinstance(screen, DoneScreen) and self.paper.secrets is not None,
                "screen.print_secrets",
                _("Imprimer la feuille de codes"),
                _("Identifiant et mot de passe provisoire, jamais enregistrés (F6)"),
            ),
            (
                self.wiring.deck is not None,
                "app.toggle_demo_cps",
                _("Retirer ou remettre la CPS"),
                _("Démonstration : comme retirer la carte du professionnel (F4)"),
            ),
            (
                self.wiring.network is not None,
                "app.toggle_demo_network",
                _("Couper ou rétablir le réseau"),
                _("Démonstration : le service DMP devient injoignable, ou revient (F12)"),
            ),
            (
                self.wiring.deck is not None,
                "app.remove_demo_card",
                _("Retirer la carte Vitale"),
                _("Démonstration : comme retirer la carte du patient (F3)"),
            ),
            (True, "app.quit", _("Quitter"), _("Fermer proclient (Ctrl+Q)")),
        ):
            if binding:
                yield SystemCommand(title, help_text, _runner(self, action))

    def action_command_palette(self) -> None:
        """Textual's palette, its search prompt in the UI language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=_("Rechercher une commande…"))
            )

    # --- the cards -----------------------------------------------------------------------------

    def on_card_event_message(self, message: CardEventMessage) -> None:
        event = message.event
        slot = self.cards.slot_of(event)
        if slot is Slot.SERVICE:
            self._reader_service_changed(event.kind)
        elif slot is Slot.PROFESSIONAL:
            if event.kind is CardEventKind.REMOVED:
                self._cps_removed()
        elif slot is Slot.PATIENT:
            if event.kind is CardEventKind.INSERTED:
                self._set_reader_state(_("carte insérée"))
                self._read_card()
            elif event.kind is CardEventKind.REMOVED:
                self._set_reader_state(_("pas de carte"))
                self._card_removed()

    def _set_reader_state(self, state: str) -> None:
        self.reader_state = _("{reader} — {state}", reader=self.wiring.patient_reader, state=state)
        self._refresh_home()

    def _reader_service_changed(self, kind: CardEventKind) -> None:
        """pcscd stopped or came back (the monitor recovers by itself), or readers changed."""
        if kind is CardEventKind.SERVICE_LOST:
            self.reader_state = _(
                "le service des cartes (pcscd) est arrêté : relancez-le ; "
                "la lecture reprendra d'elle-même"
            )
        elif kind is CardEventKind.SERVICE_BACK:
            self._set_reader_state(_("service des cartes revenu"))
            return
        self._refresh_home()

    def _read_card(self) -> None:
        self.home_prompt = _("Lecture de la carte Vitale…")
        self._refresh_home()
        self.jobs.run(
            "card", self.cards.read, thread=True, done=self._card_read, failed=self._card_failed
        )

    def _card_failed(self, failure: JobFailed) -> None:
        if self.flow.typed:
            self.notify(failure.message, severity="warning")  # keep what is being typed
            return
        self.flow.reset()
        self.show_step()
        # A card that cannot be read here (Vitale 1, wrong card, garbled data): offer typing.
        self.home_prompt = (
            _("Carte non lue : F6 pour saisir l'identité à la main")
            if failure.code in MANUAL_ENTRY_CODES
            else _("Carte non lue")
        )
        self._refresh_home()
        self.screen.post_message(failure)

    def _card_read(self, card: VitaleCard) -> None:
        if not self.cards.present:
            return  # pulled just after the read: nothing of the patient is shown
        if card == self.flow.card and self.flow.step is not Step.HOME:
            return  # the same card reported again (pcscd came back): the work goes on
        try:
            self.flow.card_read(card)
        except DomainError as error:
            self._card_failed(JobFailed("card", error.code, error.message))
            return
        self.clear_notifications()  # a new patient: the last one's toasts go
        self.home_prompt = _("Carte lue : retirez-la à la fin, ou F5 pour la relire.")
        kept = self.cards.pulled_for(card)
        self.show_step()
        if kept is not None and not self.session.locked:
            from proclient.screens.resume import ResumeModal

            self.push_screen(ResumeModal(kept.display_name, int(kept.step)))

    def on_resume_answered(self, message: ResumeAnswered) -> None:
        """Enter resumes the flow kept when the card was pulled; Esc starts afresh (step 1)."""
        from proclient.screens.resume import ResumeModal

        if isinstance(self.screen, ResumeModal):
            self.pop_screen()
        kept = self.cards.take_pulled()
        if kept is None:
            return
        if message.resume and self.flow.step is Step.IDENTIFY and kept.card == self.flow.card:
            self.flow.resume(kept)
            signed_in = self.session.authenticated or (self.session.offline and self.flow.offline)
            self.flow.professional = self.session.professional if signed_in else None
            self.show_step()
        kept.reset()

    def expire_pulled_card(self) -> None:
        """The card pulled was not put back in time: what was kept leaves memory (a timer)."""
        from proclient.screens.resume import ResumeModal

        if self.cards.expire_pulled() and isinstance(self.screen, ResumeModal):
            self.pop_screen()

    def _card_removed(self) -> None:
        self.home_prompt = ""
        if self.flow.typed:
            return  # the identity is being typed: the card (a Vitale 1…) was not its source
        if self.flow.step is Step.DONE:
            return  # the accusé is saved; the secrets sheet may still be wanted: Enter ends
        if self.creating:
            return  # the creation in flight ends on its accusé; Enter then clears it all
        had_patient = self.flow.step is not Step.HOME
        self._keep_step_draft()
        kept = self.flow.set_aside()
        if kept is not None:
            self.cards.keep_pulled(kept)
        self.show_step()
        if kept is not None:
            self.notify(
                _(
                    "Carte retirée : les données du patient ont été effacées de l'écran. "
                    "Remettez la même carte dans les 2 minutes pour reprendre."
                )
            )
        elif had_patient:
            self.notify(_("Carte retirée : les données du patient ont été effacées de l'écran."))

    def _keep_step_draft(self) -> None:
        """What step 3 or 4 shows but F8 did not yet take goes into the flow before it is set
        aside."""
        from proclient.screens.consent import ConsentScreen
        from proclient.screens.online_access import OnlineAccessScreen

        screen, step = self.screen, self.flow.step
        if isinstance(screen, ConsentScreen) and step is Step.CONSENT:
            self.flow.keep_consent_draft(screen.draft())
        elif isinstance(screen, OnlineAccessScreen) and step is Step.ONLINE_ACCESS:
            self.flow.keep_web_draft(screen.draft())

    def insert_demo_card(self, key: str) -> None:
        if self.wiring.deck is not None:
            self.wiring.deck.insert(key)

    def action_remove_demo_card(self) -> None:
        if self.wiring.deck is not None:
            self.wiring.deck.remove()

    def action_toggle_demo_cps(self) -> None:
        if self.wiring.deck is not None:
            self.wiring.deck.toggle_cps()

    def action_toggle_demo_network(self) -> None:
        """Demo: cut or restore the embedded service's network, then probe it at once."""
        if self.wiring.network is None:
            return
        cut = self.wiring.network.toggle()
        self.notify(
            _("Démonstration : réseau coupé.") if cut else _("Démonstration : réseau rétabli.")
        )
        self.probe_service()

    def on_demo_card_insert_requested(self, message: DemoCardInsertRequested) -> None:
        self.insert_demo_card(message.key)

    def on_card_reread_requested(self, message: CardRereadRequested) -> None:
        self._read_card()

    def on_manual_entry_requested(self, message: ManualEntryRequested) -> None:
        if self.creating:
            return
        self.flow.start_manual_entry()
        self.clear_notifications()  # a new patient: the last one's toasts go
        self.show_step()

    # --- moving around -------------------------------------------------------------------------

    def show_step(self) -> None:
        """Put the screen of the flow's current step on top of the home screen."""
        if self.session.locked:
            self._step_behind_lock = True  # the lock stays on top; unlocking shows the step
            return
        step = self.flow.step
        if step is Step.HOME:
            while len(self.screen_stack) > 1:
                self.pop_screen()
            self._refresh_home()
            return
        screen_type = step_screen(step, typed=step is Step.IDENTIFY and self.flow.typed)
        screen = screen_type(self.flow, self._screen_context())
        if isinstance(self.screen, HomeScreen):
            self.push_screen(screen)
        else:
            self.switch_screen(screen)
        if step is Step.CONNECT and self.session.authenticated:
            self._check_status(screen)
        elif step is Step.CONNECT and self.session.offline:
            self._offline_for(screen, self.session.professional)

    def _refresh_home(self) -> None:
        status = HomeStatus(
            self.reader_state, self.service_state, self.home_prompt, self.outbox_line()
        )
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.post_message(status)

    def _apply(self, screen, change) -> bool:
        """Apply one change to the flow; a refusal goes back to ``screen`` as a JobFailed."""
        try:
            change()
        except DomainError as error:
            screen.post_message(JobFailed("flow", error.code, error.message))
            return False
        self.show_step()
        return True

    def on_back_requested(self, message: BackRequested) -> None:
        if self.creating:
            return
        self.flow.back()
        self.show_step()

    def on_beneficiary_chosen(self, message: BeneficiaryChosen) -> None:
        def change() -> None:
            if message.index is None:
                raise DomainError("BENEFICIARY", _("Choisissez un bénéficiaire dans la liste."))
            self.flow.choose_beneficiary(message.index)
            self.flow.confirm_identity()

        self._apply(self.screen, change)

    def on_identity_typed(self, message: IdentityTyped) -> None:
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

        self._apply(self.screen, change)

    def on_connection_confirmed(self, message: ConnectionConfirmed) -> None:
        self._apply(self.screen, self.flow.confirm_connection)

    def on_consent_given(self, message: ConsentGiven) -> None:
        def change() -> None:
            representative = None
            if self.flow.needs_legal_representative and message.consent.creation:
                representative = make_legal_representative(
                    message.relationship,
                    message.representative_last_name,
                    message.representative_first_name,
                )
            self.flow.set_consent(message.consent, representative)

        self._apply(self.screen, change)

    def on_web_access_chosen(self, message: WebAccessChosen) -> None:
        from proclient.core.domain import WebAccess

        def change() -> None:
            web = WebAccess.from_input(message.email, message.mobile) if message.wanted else None
            self.flow.set_web_access(web)

        self._apply(self.screen, change)

    def on_consent_drafted(self, message: ConsentDrafted) -> None:
        if self.flow.step is Step.CONSENT:
            self.flow.keep_consent_draft(message.draft)

    def on_web_access_drafted(self, message: WebAccessDrafted) -> None:
        if self.flow.step is Step.ONLINE_ACCESS:
            self.flow.keep_web_draft(WebDraft(message.wanted, message.email, message.mobile))

    # --- step 2: the professional's session ------------------------------------------------------

    def on_pin_status_requested(self, message: PinStatusRequested) -> None:
        screen = self.screen
        self._prepare_login()

        async def probe():
            binding = await self.creation.service()
            return await self.session.pin_status(binding.credentials)

        self.jobs.run(
            "pin-status",
            probe,
            owner=screen,
            done=lambda status: screen.post_message(PinStatusRead(status)),
        )

    def _prepare_login(self) -> None:
        """The PIN is being typed: connect and fetch the challenge meanwhile (on a weak
        mobile link this saves three round trips after Enter; see benchmarks/weak_network.py).
        Not while the service is known to be unreachable; failures are silent."""
        binding = self.creation.binding
        if (
            binding is None
            or self.session.authenticated
            or self.creation.probe.state is Reachability.UNREACHABLE
        ):
            return
        prepare = getattr(binding.client, "prepare_login", None)
        if prepare is not None:
            self.jobs.run("prepare-login", prepare)

    def on_demo_cps_unblock_requested(self, message: DemoCpsUnblockRequested) -> None:
        """The demo CPS's tries back (demo only: a real card needs its PUK)."""
        import asyncio

        screen = self.screen
        if not self.wiring.demo:
            return

        async def unblock():
            binding = await self.creation.service()
            return await asyncio.to_thread(binding.credentials.unblock_demo)

        self.jobs.run(
            "pin-status",
            unblock,
            owner=screen,
            done=lambda status: screen.post_message(PinStatusRead(status)),
        )

    def on_pin_entered(self, message: PinEntered) -> None:
        from proclient.screens.outbox import OutboxScreen

        if message.unlock:
            self._unlock(message.pin)
        elif isinstance(self.screen, OutboxScreen):
            self._login_for_outbox(message.pin)
        else:
            self._connect(message.pin)

    def _login_for_outbox(self, pin: bytearray) -> None:
        """The code typed on the outbox screen: sign in, then send what waits."""
        screen = self.screen

        def signed_in(_professional) -> None:
            self._outbox_refreshed()
            if self.session.authenticated:
                self.send_outbox(quiet=False)

        self.jobs.run(
            "outbox-login",
            lambda: self._login(pin),
            owner=screen,
            done=signed_in,
            failed=self._identification_failed,
        )

    async def _login(self, pin: bytearray):
        binding = await self.creation.service()
        return await self.session.login(
            binding.credentials, binding.client, pin, offline_ok=self.outbox.available
        )

    def _connect(self, pin: bytearray) -> None:
        """One login attempt with ``pin`` (wiped afterwards), then INSi and the existence test."""
        screen = self.screen

        async def connect():
            professional = await self._login(pin)
            if self.session.offline:
                return professional, None, None  # nothing to ask: the creation is recorded
            return professional, *(await self._identify_for(screen))

        self.jobs.run(
            "connect",
            connect,
            owner=screen,
            failed=self._identification_failed,
            done=lambda answer: self._connected(screen, *answer),
        )

    def _identification_failed(self, failure: JobFailed) -> None:
        """Before the screen hears of it: whether the professional is still signed in (the
        login passed and INSi or the status failed) or not (the login or the session did)."""
        if failure.code.startswith("AUTH"):
            self.session.authenticated = False
        if failure.code == "SERVICE_UNAVAILABLE":
            # The state on screen follows at once, not at the next check; signed in, then the
            # service itself gone (not INSi alone: F5 then), the creation is recorded.
            screen = self.screen
            self.jobs.run(
                "service-probe",
                self.creation.check,
                done=lambda state: self._maybe_offline(screen, state),
            )
        if self.flow.step is Step.CONNECT:
            session = self.session
            self.flow.professional = session.professional if session.authenticated else None

    async def _identify_for(self, screen, query=None):
        """(INSi's answer or None, the DMP's state or None) for the patient on ``screen``.

        With an identity already checked (back from step 3, a lock undone), only the existence
        test runs again; otherwise INSi is asked first (``query``, or the flow's first look-up:
        by the card, or by the traits) and the existence test follows for the INS it found. A
        card without the beneficiary's NIR gives no sex: then nothing is asked, the screen
        shows the traits form."""
        flow = self.flow
        if flow.held is None or screen is not self.screen:
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
        self._insi_query = query
        return await self.creation.identify(query)

    def _check_status(self, screen, query=None, job: str = "status") -> None:
        async def identify():
            return self.session.professional, *(await self._identify_for(screen, query))

        self.jobs.run(
            job,
            identify,
            owner=screen,
            failed=self._identification_failed,
            done=lambda answer: self._connected(screen, *answer),
        )

    def _maybe_offline(self, screen, state) -> None:
        self._service_checked(state)
        flow = self.flow
        if (
            state is Reachability.UNREACHABLE
            and self.outbox.available
            and flow.step is Step.CONNECT
            and flow.identity is None
            and screen is self.screen
            and self.session.fall_offline()
        ):
            self._offline_for(screen, self.session.professional)

    def _offline_for(self, screen, professional) -> None:
        """Step 2 without the service: the creation will be recorded (the screen says so)."""
        if self.flow.step is not Step.CONNECT or professional is None:
            return
        if not self.flow.offline:
            self.flow.work_offline(professional)
        elif self.flow.professional is None:  # resumed after the card was put back
            self.flow.professional = professional
        self.call_after_refresh(screen.post_message, Connected())

    def _connected(self, screen, professional, answer, state) -> None:
        if self.flow.step is not Step.CONNECT or screen is not self.screen:
            return
        if self.session.offline:
            self._offline_for(screen, professional)
            self._refresh_home()
            return
        if answer is not None:
            self.flow.insi_answered(answer)
        if state is not None:
            self.flow.connected(professional, state)
        else:
            self.flow.professional = professional
        screen.post_message(Connected())

    def on_insi_traits_given(self, message: InsiTraitsGiven) -> None:
        """The traits form: ask INSi by these traits."""
        from proclient.core.identity import traits_query

        screen, flow = self.screen, self.flow
        if flow.offline:
            self._offline_traits(screen, message)
            return
        try:
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
        self._check_status(screen, query, job="insi")

    def _back_online(self, screen) -> None:
        binding = self.creation.binding
        if binding is None:
            return
        self.flow.leave_offline()

        async def online():
            if self.session.offline:
                await self.session.go_online(binding.client)
            return self.session.professional, *(await self._identify_for(screen))

        self.jobs.run(
            "insi",
            online,
            owner=screen,
            failed=self._identification_failed,
            done=lambda answer: self._connected(screen, *answer),
        )

    def _offline_traits(self, screen, message: InsiTraitsGiven) -> None:
        """Offline, the traits typed are kept for INSi's look-up at the replay."""
        from dataclasses import replace

        from proclient.core.typed import typed_identity

        flow = self.flow
        try:
            typed = typed_identity(
                message.birth_name,
                message.first_name,
                message.birth,
                "",
                flow.today,
                sex=message.sex,
                birthplace=message.birthplace,
            )
            assert flow.held is not None
            held = replace(typed, nir=flow.held.nir, source=flow.held.source, rank=flow.held.rank)
            flow.offline_traits(held)
        except DomainError as error:
            screen.post_message(JobFailed("insi", error.code, error.message))
            return
        screen.post_message(Connected())

    def on_insi_retry_requested(self, message: InsiRetryRequested) -> None:
        """F5 after INSi (or the service) could not be reached: the same question again.
        Recording offline, F5 tries the service again: signed in to it (without the PIN),
        the live flow goes on with INSi."""
        if self.flow.offline and self.flow.step is Step.CONNECT:
            self._back_online(self.screen)
            return
        self._check_status(self.screen, self._insi_query if self.flow.identity is None else None)

    def on_document_chosen(self, message: DocumentChosen) -> None:
        screen = self.screen
        try:
            self.flow.document_seen(message.document)
        except DomainError as error:
            screen.post_message(JobFailed("document", error.code, error.message))
            return
        screen.post_message(Connected())

    def _unlock(self, pin: bytearray) -> None:
        from proclient.screens.lock import LockScreen

        def unlocked(professional) -> None:
            if isinstance(self.screen, LockScreen):
                self.pop_screen()
            same = self.session.unlocked(professional)
            if self._step_behind_lock:
                self._step_behind_lock = False
                self.show_step()
            if not same:
                self._finish()  # another professional's card: the patient was not theirs
                return
            self.flow.professional = professional if self.session.locked_for else None
            if self.flow.step is Step.CONNECT and self.session.offline:
                self._offline_for(self.screen, professional)
            elif self.flow.step is Step.CONNECT and self.flow.dmp_state is None:
                self._check_status(self.screen)

        self.jobs.run("unlock", lambda: self._login(pin), owner=self.screen, done=unlocked)

    def _cps_removed(self) -> None:
        had_something = (
            self.session.authenticated or self.session.locked or self.flow.step is not Step.HOME
        )
        self._end_session()
        self.session.locked = self._step_behind_lock = False
        if not self.creating:  # else the creation in flight ends on its accusé
            self._finish()
        if had_something:
            self.notify(
                _(
                    "Carte CPS retirée : session fermée, les données du patient ont été "
                    "effacées de l'écran."
                )
            )

    def _end_session(self) -> None:
        binding = self.creation.binding
        self.session.end(binding.client if binding else None)
        self.flow.professional = None
        self.cards.forget_pulled()  # a patient set aside is not for the next professional

    def on_session_close_requested(self, message: SessionCloseRequested) -> None:
        self._cps_removed()

    def check_idle_lock(self) -> None:
        """Lock when idle too long (run by a timer; tests call it after moving the clock)."""
        if self.session.idle_due(self.flow.step is not Step.HOME, self.creating):
            self.lock_session()

    def lock_session(self) -> None:
        from proclient.screens.lock import LockScreen

        if self.session.locked:
            return
        binding = self.creation.binding
        self.session.lock(self.flow.professional, binding.client if binding else None)
        self.flow.professional = None
        self.push_screen(LockScreen())

    # --- the creation and the paper ------------------------------------------------------------

    def on_create_requested(self, message: CreateRequested) -> None:
        if self.creating:
            return  # a second press while the first is on its way sends nothing
        screen = self.screen
        if self.flow.offline:
            self._record(screen)
            return
        try:
            request = self.flow.request()
        except DomainError as error:
            screen.post_message(JobFailed("create", error.code, error.message))
            return
        self.creating = True

        async def create():
            import asyncio

            if (
                self.creation.probe.state is Reachability.UNREACHABLE
                and await self.creation.check() is Reachability.UNREACHABLE
            ):
                # Known gone and still gone (one health check, 3 s at most): say it now
                # rather than after the write's 20 s of retries. Nothing was sent.
                from proclient.core.domain import refusal

                raise refusal("SERVICE_UNAVAILABLE")
            result = await self.creation.submit(request)
            self.flow.completed(result)
            receipt = CreationReceipt(
                request, self.flow.professional, result.dmp_id, result.at, demo=self.wiring.demo
            )
            return await asyncio.to_thread(self.paper.issue, receipt, result)

        def failed(failure: JobFailed) -> None:
            self.creating = False

        self.jobs.run("create", create, owner=screen, done=self._created, failed=failed)

    def _created(self, issued: tuple[str, str]) -> None:
        from proclient.screens.done import DoneScreen

        preview, error = issued
        self.creating = False
        lost = self.creation.password_error
        done = DoneScreen(
            self.flow,
            self._screen_context(),
            self.paper.receipt_path,
            preview,
            self.paper.secrets is not None,
            password_error=lost.message if lost is not None and not self.paper.secrets else "",
        )
        self.switch_screen(done)
        if error:
            self.notify(error, severity="error", timeout=TOAST_MAX_SECONDS)
        if self.wiring.auto_print:
            self._print_receipt()

    def on_record_requested(self, message: RecordRequested) -> None:
        """F9 on the summary: the live creation could not reach the service; record it."""
        if not self.creating:
            self._record(self.screen, live=True)

    def _record(self, screen, live: bool = False) -> None:
        """Sign and keep the capture, then show the patient's slip. ``live``: the creation
        was first sent live and the service could not be reached: the capture goes under
        that request's idempotency key (if the request did arrive, the service replays its
        answer instead of a second DMP) and the outbox owns the key from then on."""
        import asyncio
        from datetime import UTC, datetime

        from proclient.core.records import RecordedSlip

        flow, credential = self.flow, self.session.credential
        try:
            held, document, consent, representative = flow.capture_parts()
            if credential is None or flow.professional is None:
                raise DomainError(
                    "NOT_CONNECTED", _("Connectez-vous avec votre carte CPS pour continuer.")
                )
            request = flow.request() if live else None
        except DomainError as error:
            screen.post_message(JobFailed("create", error.code, error.message))
            return
        professional = flow.professional
        self.creating = True

        async def record():
            key = None
            if request is not None:
                key = await asyncio.to_thread(self.creation.key_for, request)
            entry_id = await asyncio.to_thread(
                self.outbox.record,
                held,
                document,
                consent,
                representative,
                credential,
                key,
            )
            if request is not None:
                await asyncio.to_thread(self.creation.forget, request)
            flow.was_recorded(entry_id)
            slip = RecordedSlip(
                held.display_name,
                professional,
                datetime.now(UTC),
                consent,
                representative,
                demo=self.wiring.demo,
            )
            return await asyncio.to_thread(self.paper.issue_slip, slip)

        def failed(failure: JobFailed) -> None:
            self.creating = False

        self.jobs.run("record", record, owner=screen, done=self._recorded, failed=failed)

    def _recorded(self, preview: str) -> None:
        from proclient.screens.recorded import RecordedScreen

        self.creating = False
        self.switch_screen(
            RecordedScreen(self.flow, self._screen_context(), preview, self.outbox.pending)
        )
        self._refresh_home()
        if self.wiring.auto_print:
            self._print_slip()
        self.send_outbox()  # the service may have come back meanwhile

    def _print_job(self, name: str, call, sent: str) -> None:
        """Print in a thread; ``sent``: what to say (a message id, N_) with the job id."""
        self.jobs.run(
            name,
            call,
            thread=True,
            done=lambda job: self.notify(_(sent, job=job)),
            failed=self._print_failed,
        )

    def _print_slip(self) -> None:
        self._print_job(
            "print-slip",
            self.paper.print_slip,
            N_("Récépissé envoyé à l'imprimante (tâche {job})."),
        )

    def on_slip_print_requested(self, message: SlipPrintRequested) -> None:
        if self.paper.slip is not None:
            self._print_slip()

    def _print_receipt(self, path: Path | None = None) -> None:
        self._print_job(
            "print-receipt",
            lambda: self.paper.print_receipt(path),
            N_("Accusé envoyé à l'imprimante (tâche {job})."),
        )

    def _print_failed(self, failure: JobFailed) -> None:
        self.notify(failure.message, severity="error", timeout=TOAST_MAX_SECONDS)

    def on_receipt_print_requested(self, message: ReceiptPrintRequested) -> None:
        self._print_receipt(message.path)

    def on_secrets_print_requested(self, message: SecretsPrintRequested) -> None:
        if self.paper.secrets is None:
            return
        self._print_job(
            "print-secrets",
            self.paper.print_secrets,
            N_("Feuille de codes envoyée à l'imprimante (tâche {job})."),
        )

    def on_password_reissue_requested(self, message: PasswordReissueRequested) -> None:
        """F9 on the done screen: the initial password again, when its reissue after a lost
        answer failed (controllers/creation.py). The new one only goes to the secrets sheet."""
        from proclient.screens.done import DoneScreen

        screen, result = self.screen, self.flow.result
        if not isinstance(screen, DoneScreen) or result is None or self.paper.receipt is None:
            return
        request = self.paper.receipt.request

        async def reissue():
            return await self.creation.reissue_password(request, result)

        def reissued(new) -> None:
            self.flow.result = new
            if self.paper.issue_secrets(new) and screen.is_attached:
                screen.password_issued()
                self.notify(
                    _("Nouveau mot de passe provisoire obtenu : F6 imprime la feuille de codes.")
                )

        self.jobs.run("reissue-password", reissue, owner=screen, done=reissued)

    def on_secrets_show_requested(self, message: SecretsShowRequested) -> None:
        from proclient.screens.done import SecretsModal

        if self.paper.secrets is not None:
            self.push_screen(SecretsModal(self.paper.secrets))

    def on_journal_requested(self, message: JournalRequested) -> None:
        from proclient.screens.journal import JournalScreen

        self.push_screen(JournalScreen(self._screen_context()))

    def on_journal_load_requested(self, message: JournalLoadRequested) -> None:
        screen = self.screen
        self.jobs.run(
            "journal",
            self.paper.journal,
            thread=True,
            owner=screen,
            done=lambda entries: screen.post_message(JournalLoaded(entries)),
        )

    def on_next_patient_requested(self, message: NextPatientRequested) -> None:
        self._finish()

    def _finish(self) -> None:
        """End of the flow: the patient's data and secrets leave memory and screen."""
        self.paper.clear()
        self.flow.reset()
        self.clear_notifications()  # nothing of this patient stays on screen, toasts included
        self.home_prompt = _("Retirez la carte Vitale du patient.") if self.cards.present else ""
        self.show_step()


def age_in_words(since, now=None) -> str:
    """How long ago ``since`` was, in words: « il y a 5 min », « il y a 3 h », « il y a 2 j »."""
    from datetime import UTC, datetime

    seconds = max(0.0, ((now or datetime.now(UTC)) - since).total_seconds())
    if seconds < 60:
        return _("à l'instant")
    if seconds < 3600:
        return _("il y a {n} min", n=int(seconds // 60))
    if seconds < 86400:
        return _("il y a {n} h", n=int(seconds // 3600))
    return _("il y a {n} j", n=int(seconds // 86400))


def _runner(app: App, action: str):
    async def run() -> None:
        await app.run_action(action)

    return run
