"""Snapshots of every screen at 80×24 and 60×20, for the demo card LE GOFF (and the DURAND family card).

Each screen is shown by a tiny host App, not the real one: the screens take the creation flow
and a ScreenContext and never call the App, so no service, no card and no clock are involved.
The intents the screens post bubble up to the host, which ignores them; the results the real
App would send back (HomeStatus, Connected, PinStatusRead, JournalLoaded) are posted by the
test itself. Everything is fixed (dates, paths, values) so that the SVGs do not move.

Regenerate after a deliberate change of the screens:
    .venv/bin/python -m pytest tests/snapshots -p no:cacheprovider --snapshot-update
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode

from proclient.app import ProclientApp
from proclient.cardreader.demo_cards import DEMO_CARDS
from proclient.cardreader.demo_deck import demo_choices
from proclient.core.domain import (
    Action,
    Consent,
    DmpState,
    DmpStatus,
    Professional,
    VitaleCard,
    WebAccess,
)
from proclient.core.flow import CreationFlow
from proclient.core.i18n import _, use_language
from proclient.core.identity import Document, InsiAnswer, InsiCode
from proclient.core.records import CreationResult, SecretsSheet, WebCredentials
from proclient.core.submission import creation_request
from proclient.credentials.pin import PinStatus
from proclient.messages import (
    Connected,
    HomeStatus,
    JournalLoaded,
    OutboxLoaded,
    PinStatusRead,
)
from proclient.receipts.journal import JournalEntry
from proclient.screens.base import ScreenContext
from proclient.screens.connect import ConnectScreen
from proclient.screens.consent import ConsentScreen
from proclient.screens.done import DoneScreen, SecretsModal
from proclient.screens.home import DemoCardPicker, HomeScreen
from proclient.screens.identify import IdentifyScreen
from proclient.screens.journal import JournalScreen
from proclient.screens.lock import LockScreen
from proclient.screens.manual_entry import ManualEntryScreen
from proclient.screens.online_access import OnlineAccessScreen
from proclient.screens.outbox import OutboxScreen, QuitModal
from proclient.screens.recorded import RecordedScreen
from proclient.screens.summary import SummaryScreen
from proclient.widgets.theme import apply_theme
from tests.test_flow import register_answer

SIZE = (80, 24)
NARROW = (60, 20)
TODAY = date(2026, 11, 28)
AT = datetime(2026, 11, 28, 10, 42, tzinfo=UTC)
ATR = "3B7513000047"
LEGOFF = VitaleCard(ATR, DEMO_CARDS["legoff"].beneficiaries)
DURAND = VitaleCard(ATR, DEMO_CARDS["durand"].beneficiaries)
MOREAU = VitaleCard(ATR, DEMO_CARDS["moreau"].beneficiaries)
LEROY = VitaleCard(ATR, DEMO_CARDS["leroy"].beneficiaries)
PHARMACIST = Professional("899700024450", "MARTIN", "Claire", "21", "Pharmacie de la Gare")
CONTEXT = ScreenContext(
    demo=True,
    credential_label="Claire MARTIN, Pharmacien",
    credential_hint="Code porteur de démonstration : 1234",
    demo_cards=demo_choices(),
)
RECEIPT = Path("/srv/proclient/receipts/accuse.pdf")
PREVIEW = "\n".join(
    (
        "ACCUSÉ DE CRÉATION DU DMP",
        "Patient : LE GOFF Gérard, né le 14/03/1952",
        "DMP créé le 28/11/2026 à 11:42",
        "Professionnel : Claire MARTIN, Pharmacie de la Gare",
    )
)


class Host(App):
    """Shows the screens it is given, one over the other; ignores every intent."""

    BINDINGS = list(ProclientApp.BINDINGS)  # F3 and F4 in the footer, as in the demo

    def __init__(self, *screens) -> None:
        super().__init__()
        apply_theme(self)  # the real App's colours and focus cues
        self._screens = screens  # callables, so that the screens are made inside the app

    def on_mount(self) -> None:
        for make in self._screens:
            self.push_screen(make())

    def action_remove_demo_card(self) -> None:
        pass

    def action_toggle_demo_cps(self) -> None:
        pass


# --- the flow, walked to each step ------------------------------------------------------------


def at_identify(card=LEGOFF) -> CreationFlow:
    flow = CreationFlow(today=TODAY)
    flow.card_read(card)
    return flow


def at_connect(card=LEGOFF, index=0) -> CreationFlow:
    flow = at_identify(card)
    flow.choose_beneficiary(index)
    flow.confirm_identity()
    return flow


def insi_checked(card=LEGOFF, index=0, document=Document.PASSPORT) -> CreationFlow:
    flow = at_connect(card, index)
    flow.insi_answered(register_answer(card.beneficiaries[index].nir))
    if document is not None:
        flow.document_seen(document)
    return flow


def connected(card=LEGOFF, index=0, document=Document.PASSPORT) -> CreationFlow:
    flow = insi_checked(card, index, document)
    flow.connected(PHARMACIST, DmpState(DmpStatus.NOT_FOUND))
    return flow


def insi_said(card, index, code: InsiCode, by_card: bool) -> CreationFlow:
    """INSi found no identity (01) or several (02) for the beneficiary."""
    flow = at_connect(card, index)
    flow.professional = PHARMACIST
    if code is not None:
        flow.insi_answered(InsiAnswer(code, None, by_card=by_card))
    return flow


def at_consent(card=LEGOFF, index=0) -> CreationFlow:
    flow = connected(card, index)
    flow.confirm_connection()
    return flow


def at_online_access() -> CreationFlow:
    flow = at_consent()
    flow.set_consent(Consent(creation=True))
    return flow


def minor_at_online_access() -> CreationFlow:
    """DURAND Léa (a minor): consent given by her mother, typed."""
    from proclient.core.domain import make_legal_representative

    flow = at_consent(DURAND, 1)
    flow.set_consent(Consent(creation=True), make_legal_representative("MTH", "Durand", "Sophie"))
    return flow


def minor_at_summary() -> CreationFlow:
    flow = minor_at_online_access()
    flow.set_web_access(None)
    return flow


def at_summary() -> CreationFlow:
    flow = at_online_access()
    flow.set_web_access(WebAccess.from_input("gerard.legoff@exemple.fr", "06 12 34 56 78"))
    return flow


def at_done() -> CreationFlow:
    flow = at_summary()
    creation_request(flow)
    flow.completed(
        CreationResult(
            Action.CREATION,
            "DMP-0000000000042",
            AT,
            WebCredentials("GLEGOFF-4821", "Provisoire-7F3K"),
        )
    )
    return flow


def offline_at_connect(card=LEGOFF, index=0, document=Document.PASSPORT) -> CreationFlow:
    """Step 2 with the service unreachable: the creation will be recorded."""
    flow = at_connect(card, index)
    flow.work_offline(PHARMACIST)
    if document is not None:
        flow.document_seen(document)
    return flow


def offline_at(step: str) -> CreationFlow:
    flow = offline_at_connect()
    flow.confirm_connection()
    if step == "consent":
        return flow
    flow.set_consent(Consent(creation=True, break_glass_access=False))
    if step == "online_access":
        return flow
    flow.set_web_access(None)
    if step == "summary":
        return flow
    flow.was_recorded("0" * 32)
    return flow


SLIP = "\n".join(
    (
        "DEMANDE DE CRÉATION DU DMP ENREGISTRÉE",
        "Patient : LE GOFF Gérard",
        "Enregistrée le 28/11/2026 à 11:42",
        "Par : Claire MARTIN, Pharmacien",
    )
)


def outbox_entries():
    from proclient.outbox.port import EntryState, EntrySummary

    # Two patients recorded in the same minute: their rows differ by the initials, the
    # birth year and the second.
    return [
        EntrySummary("a" * 32, AT, PHARMACIST.id_nat, EntryState.PENDING, "", "L. G. 1952"),
        EntrySummary(
            "b" * 32,
            AT + timedelta(seconds=37),
            PHARMACIST.id_nat,
            EntryState.HELD,
            "DMPFound",
            "C. M. 1991",
        ),
        EntrySummary(
            "c" * 32, AT, PHARMACIST.id_nat, EntryState.HELD, "INSI_DIFFERENCES", "L. N. 1969"
        ),
    ]


def manual_entry() -> CreationFlow:
    flow = CreationFlow(today=TODAY)
    flow.start_manual_entry()
    return flow


def done_screen() -> DoneScreen:
    return DoneScreen(at_done(), CONTEXT, RECEIPT, PREVIEW, has_secrets=True)


def reactivated_screen() -> DoneScreen:
    flow = at_done()
    flow.result = CreationResult(Action.REACTIVATION, "DMP-0000000000042", AT, None)
    preview = PREVIEW.replace("CRÉATION", "RÉACTIVATION").replace("DMP créé", "DMP réactivé")
    return DoneScreen(flow, CONTEXT, RECEIPT, preview, has_secrets=False)


SHEET = SecretsSheet(
    "LE GOFF Gérard",
    "GLEGOFF-4821",
    "Provisoire-7F3K",
    email_masked="g***@exemple.fr",
    mobile_masked="06 ** ** ** 78",
    at=AT,
)

JOURNAL = [
    JournalEntry(
        1,
        Path("/srv/proclient/receipts/2026-11-28_1042_creation.pdf"),
        datetime(2026, 11, 28, 10, 42),
        "DMP-0000000000042",
        "creation",
        "a4",
        "qualifiee",
    ),
    JournalEntry(
        2,
        Path("/srv/proclient/receipts/2026-11-27_1615_reactivation.pdf"),
        datetime(2026, 11, 27, 16, 15),
        "",
        "reactivation",
        "80mm",
        "recuperee",
    ),
]


# --- what the real App would send to the screen -------------------------------------------------


def posting(*messages, keys=()):
    async def run_before(pilot) -> None:
        await pilot.pause()
        for message in messages:
            pilot.app.screen.post_message(message)
            await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.pause()

    return run_before


HOME_STATUS = HomeStatus("lecteur patient prêt (démonstration)", "connecté (démonstration)")


CASES = {
    "home": ((lambda: HomeScreen(CONTEXT),), posting(HOME_STATUS)),
    "home_demo_card_picker": (
        (lambda: HomeScreen(CONTEXT), lambda: DemoCardPicker(CONTEXT.demo_cards)),
        None,
    ),
    "identify_legoff": ((lambda: IdentifyScreen(at_identify(), CONTEXT),), None),
    "identify_durand_family": ((lambda: IdentifyScreen(at_identify(DURAND), CONTEXT),), None),
    "manual_entry": ((lambda: ManualEntryScreen(manual_entry(), CONTEXT),), None),
    "connect": (
        (lambda: ConnectScreen(at_connect(), CONTEXT),),
        posting(PinStatusRead(PinStatus())),
    ),
    "connect_connected": (
        (lambda: ConnectScreen(connected(), CONTEXT),),
        posting(PinStatusRead(PinStatus()), Connected()),
    ),
    "connect_insi_differences_leroy": (
        (lambda: ConnectScreen(connected(LEROY, 0, None), CONTEXT),),
        posting(PinStatusRead(PinStatus()), Connected()),
    ),
    "connect_traits_form_moreau_tom": (
        (lambda: ConnectScreen(insi_said(MOREAU, 1, None, False), CONTEXT),),
        posting(PinStatusRead(PinStatus()), Connected()),
    ),
    "connect_insi_several": (
        (lambda: ConnectScreen(insi_said(MOREAU, 1, InsiCode.SEVERAL, False), CONTEXT),),
        posting(PinStatusRead(PinStatus()), Connected()),
    ),
    "consent": ((lambda: ConsentScreen(at_consent(), CONTEXT),), None),
    "consent_minor_durand_lea": ((lambda: ConsentScreen(at_consent(DURAND, 1), CONTEXT),), None),
    "consent_help_f1": ((lambda: ConsentScreen(at_consent(), CONTEXT),), posting(keys=("f1",))),
    "online_access_ticked": (
        (lambda: OnlineAccessScreen(at_online_access(), CONTEXT),),
        posting(keys=("space",)),
    ),
    "summary": ((lambda: SummaryScreen(at_summary(), CONTEXT),), None),
    "done": ((done_screen,), None),
    "done_secrets_modal": ((done_screen, lambda: SecretsModal(SHEET)), None),
    "done_reactivation": ((reactivated_screen,), None),
    "journal": ((lambda: JournalScreen(CONTEXT),), posting(JournalLoaded(JOURNAL))),
    "home_outbox_waiting": (
        (lambda: HomeScreen(CONTEXT),),
        posting(
            HomeStatus(
                "lecteur patient prêt (démonstration)",
                "service DMP intégré (démonstration) — joignable",
                outbox="Créations enregistrées en attente : 3 (la plus ancienne : il y a 2 j, "
                "le 28/11 à 11:42) — F7 pour les voir.",
            )
        ),
    ),
    "connect_offline": (
        (lambda: ConnectScreen(offline_at_connect(), CONTEXT),),
        posting(Connected()),
    ),
    "online_access_offline": (
        (lambda: OnlineAccessScreen(offline_at("online_access"), CONTEXT),),
        None,
    ),
    "summary_offline": ((lambda: SummaryScreen(offline_at("summary"), CONTEXT),), None),
    "recorded": ((lambda: RecordedScreen(offline_at("done"), CONTEXT, SLIP, 3),), None),
    "outbox": (
        (lambda: OutboxScreen(CONTEXT),),
        posting(OutboxLoaded(outbox_entries(), False, "Saisissez votre code porteur.", True)),
    ),
    "outbox_quit_modal": ((lambda: HomeScreen(CONTEXT), lambda: QuitModal(3)), None),
    "lock": ((LockScreen,), posting(PinStatusRead(PinStatus()))),
    # A minor, every step (issue 21: every field reachable down to 60×20)
    "connect_minor_documents_down4": (
        (lambda: ConnectScreen(insi_checked(DURAND, 1, document=None), CONTEXT),),
        posting(Connected(), keys=("down", "down", "down", "down")),
    ),
    "consent_minor_first_name_focused": (
        (lambda: ConsentScreen(at_consent(DURAND, 1), CONTEXT),),
        posting(keys=("tab",) * 6),
    ),
    "online_access_minor": (
        (lambda: OnlineAccessScreen(minor_at_online_access(), CONTEXT),),
        posting(keys=("space", "tab")),
    ),
    "summary_minor": ((lambda: SummaryScreen(minor_at_summary(), CONTEXT),), None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_screen(name, snap_compare):
    screens, run_before = CASES[name]
    assert snap_compare(Host(*screens), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("name", list(CASES))
def test_screen_narrow(name, snap_compare):
    """The same screens at 60×20: they reflow (wrapped lines, a scrolling body), none is cut."""
    screens, run_before = CASES[name]
    assert snap_compare(Host(*screens), terminal_size=NARROW, run_before=run_before)


# --- without colour (issue 21) ----------------------------------------------------------------------

NO_COLOUR_CASES = {
    # the consent unticked and focused, the emergency accesses ticked
    "consent": CASES["consent"],
    # the family's list, the first beneficiary highlighted
    "identify_durand_family": CASES["identify_durand_family"],
    # the box ticked, the e-mail field focused (underlined), the mobile's not
    "online_access_email_focused": (
        (lambda: OnlineAccessScreen(at_online_access(), CONTEXT),),
        posting(keys=("space", "tab")),
    ),
    # the open list of relationships, its blank entry highlighted
    "consent_minor_relationship_open": (
        (lambda: ConsentScreen(at_consent(DURAND, 1), CONTEXT),),
        posting(keys=("tab", "tab", "tab", "tab", "enter")),
    ),
}


@pytest.mark.parametrize("name", list(NO_COLOUR_CASES))
def test_screen_without_colour(name, snap_compare, monkeypatch):
    """NO_COLOR: Textual draws in greys; ticked or not, focused or not, highlighted or not
    read in glyphs and attributes (the SVG keeps them)."""
    monkeypatch.setenv("NO_COLOR", "1")
    screens, run_before = NO_COLOUR_CASES[name]
    assert snap_compare(Host(*screens), terminal_size=SIZE, run_before=run_before)


# --- the same screens in English ------------------------------------------------------------------

ENGLISH_CONTEXT = ScreenContext(
    demo=True,
    credential_label="Claire MARTIN, Pharmacist",
    credential_hint="Demo PIN: 1234",
    demo_cards=demo_choices(),
)
ENGLISH_HOME_STATUS = HomeStatus("patient reader ready (demo)", "connected (demo)")

ENGLISH_CASES = {
    "home": ((lambda: HomeScreen(ENGLISH_CONTEXT),), posting(ENGLISH_HOME_STATUS)),
    "identify_durand_family": (
        (lambda: IdentifyScreen(at_identify(DURAND), ENGLISH_CONTEXT),),
        None,
    ),
    "connect_connected": (
        (lambda: ConnectScreen(connected(), ENGLISH_CONTEXT),),
        posting(PinStatusRead(PinStatus()), Connected()),
    ),
    "consent_minor_durand_lea": (
        (lambda: ConsentScreen(at_consent(DURAND, 1), ENGLISH_CONTEXT),),
        None,
    ),
    "online_access_ticked": (
        (lambda: OnlineAccessScreen(at_online_access(), ENGLISH_CONTEXT),),
        posting(keys=("space",)),
    ),
    "summary": ((lambda: SummaryScreen(at_summary(), ENGLISH_CONTEXT),), None),
    "done": (
        (lambda: DoneScreen(at_done(), ENGLISH_CONTEXT, RECEIPT, PREVIEW, has_secrets=True),),
        None,
    ),
    "connect_offline": (
        (lambda: ConnectScreen(offline_at_connect(), ENGLISH_CONTEXT),),
        posting(Connected()),
    ),
    "recorded": ((lambda: RecordedScreen(offline_at("done"), ENGLISH_CONTEXT, SLIP, 3),), None),
    "outbox": (
        (lambda: OutboxScreen(ENGLISH_CONTEXT),),
        posting(OutboxLoaded(outbox_entries(), False, "Type your PIN to send them.", True)),
    ),
}


def _our_nodes(root=DOMNode):
    """Every DOMNode class of proclient and of this module (the Host), subclasses first last."""
    for cls in root.__subclasses__():
        if cls.__module__.startswith(("proclient.", __name__)):
            yield cls
        yield from _our_nodes(cls)


@pytest.fixture
def english(monkeypatch):
    """The UI in English for one test, the footer's key labels included.

    The screens translate their text at compose time, but Textual reads the key labels from
    ``BINDINGS``, which are translated once at import (``proclient.cli`` chooses the language
    before importing the screens). Here the process already imported them in French, so each
    class's ``BINDINGS`` is translated again (French source → English) and Textual's merged
    bindings of the class recomputed; monkeypatch puts the French ones back afterwards.
    """
    use_language("en")
    classes = set(_our_nodes())
    for cls in classes:
        if "BINDINGS" in cls.__dict__:
            translated = [
                replace(b, description=_(b.description)) if isinstance(b, Binding) else b
                for b in cls.__dict__["BINDINGS"]
            ]
            monkeypatch.setattr(cls, "BINDINGS", translated)
    for cls in classes:
        monkeypatch.setattr(cls, "_merged_bindings", cls._merge_bindings())
    yield
    use_language("fr")


@pytest.mark.parametrize("name", list(ENGLISH_CASES))
def test_screen_in_english(name, english, snap_compare):
    screens, run_before = ENGLISH_CASES[name]
    assert snap_compare(Host(*screens), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("name", list(ENGLISH_CASES))
def test_screen_in_english_narrow(name, english, snap_compare):
    screens, run_before = ENGLISH_CASES[name]
    assert snap_compare(Host(*screens), terminal_size=NARROW, run_before=run_before)
