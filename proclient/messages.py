"""The typed messages between the screens and the App.

Two kinds, both dataclasses:

- **Intents** go up: a screen posts one (it bubbles from the screen to the App) to say what
  the professional asked for. The App routes it: the flow, then a controller, then a screen
  change. A screen never calls the App.
- **Results** go down: the App posts them to the screen that asked (they do not bubble), with
  what a controller found (``Connected``, ``PinStatusRead``…) or why it failed
  (``JobFailed``: a stable code and one French sentence).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from proclient.core.domain import Consent


# --- intents (screen → App) ------------------------------------------------------------------


@dataclass
class Intent(Message):
    """Something the professional asked for on a screen."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.origin: Any = None
        """The screen it was asked on (stamped as it passes through that screen): the App
        drops an intent whose screen is no longer on top — a key of a burst handled by a
        screen that has gone is not applied to the next one."""


@dataclass
class BackRequested(Intent):
    """Esc: one step back (what was typed is kept)."""


@dataclass
class NextPatientRequested(Intent):
    """The flow is over: the patient's data leave memory and screen."""


@dataclass
class DemoCardInsertRequested(Intent):
    key: str


@dataclass
class CardRereadRequested(Intent):
    """Read the card in the patient's reader again."""


@dataclass
class ManualEntryRequested(Intent):
    """Type the identity (Vitale 1, forgotten or unreadable card)."""


@dataclass
class JournalRequested(Intent):
    """Open the journal of the accusés saved on this workstation."""


@dataclass
class JournalLoadRequested(Intent):
    """The journal screen wants its entries."""


@dataclass
class BeneficiaryChosen(Intent):
    index: int | None


@dataclass
class IdentityTyped(Intent):
    last_name: str
    first_name: str
    birth: str
    nir: str
    sex: str = ""
    birthplace: str = ""


@dataclass
class InsiTraitsGiven(Intent):
    """Ask INSi by these traits (a card without the beneficiary's NIR, after a 01 or a 02)."""

    birth_name: str
    first_name: str
    sex: str
    birth: str  # JJ/MM/AAAA
    birthplace: str = ""


@dataclass
class InsiRetryRequested(Intent):
    """F5 after INSi could not be reached: the same look-up again."""


@dataclass
class DocumentChosen(Intent):
    """The high-trust document the professional saw (proclient.core.identity.Document), or none."""

    document: Any


@dataclass
class PinStatusRequested(Intent):
    """What the card says about its code (tries left, blocked), before typing."""


class PinPurpose(enum.Enum):
    """What a code porteur was typed for (said by the screen that asked for it)."""

    LOGIN = "login"  # step 2: sign in, then INSi and the existence test
    UNLOCK = "unlock"  # the lock screen
    OUTBOX = "outbox"  # the outbox screen: sign in, then send what waits


@dataclass
class PinEntered(Intent):
    """One login attempt. The receiver owns ``pin`` and wipes it, whatever happens."""

    pin: bytearray = field(repr=False)
    purpose: PinPurpose = PinPurpose.LOGIN


@dataclass
class DemoCpsUnblockRequested(Intent):
    """F7 in the demo, the demo CPS blocked: give it its three tries back (no PUK)."""


@dataclass
class VerifyRequested(Intent):
    """F8 at home: the « Vérifier un accusé » screen."""


@dataclass
class VerifyCodeRequested(Intent):
    """A 2D code scanned (typed by the scanner, Enter at its end) or pasted: check it."""

    text: str = field(repr=False)


@dataclass
class EcpsRequested(Intent):
    """F2 at step 2 or on the lock screen: sign in with e-CPS instead of the card."""

    purpose: PinPurpose = PinPurpose.LOGIN


@dataclass
class EcpsStartRequested(Intent):
    """The national id typed on the e-CPS screen: ask the professional's phone."""

    national_id: str
    purpose: PinPurpose = PinPurpose.LOGIN


@dataclass
class DemoPhoneAnswered(Intent):
    """The demo's phone key: the professional approves (or refuses) on the e-CPS app."""

    approve: bool


@dataclass
class SessionCloseRequested(Intent):
    """F9 on the lock screen: as if the CPS had been pulled."""


@dataclass
class ConnectionConfirmed(Intent):
    """F8 after the existence test: go on to the consent."""


@dataclass
class ConsentGiven(Intent):
    consent: Consent
    relationship: str = ""
    representative_last_name: str = ""
    representative_first_name: str = ""


@dataclass
class ConsentDrafted(Intent):
    """Step 3 left with Esc: keep the ticks and the representative (a flow.ConsentDraft),
    unchecked, for the way back."""

    draft: Any


@dataclass
class WebAccessChosen(Intent):
    wanted: bool
    email: str = ""
    mobile: str = ""


@dataclass
class WebAccessDrafted(Intent):
    """Step 4 left with Esc: keep what was ticked and typed, unchecked, for the way back."""

    wanted: bool
    email: str = ""
    mobile: str = ""


@dataclass
class ResumeAnswered(Intent):
    """The card put back: Enter resumes the patient where it was, Esc starts afresh."""

    resume: bool


@dataclass
class CreateRequested(Intent):
    """Enter on the summary: create (or reactivate) the DMP."""


@dataclass
class ReceiptPrintRequested(Intent):
    """Print the accusé just made, or, with ``path``, one from the journal."""

    path: Path | None = None


@dataclass
class SecretsPrintRequested(Intent):
    """Print the secrets sheet (lp's standard input; never a file)."""


@dataclass
class SecretsShowRequested(Intent):
    """Show the secrets sheet on screen."""


@dataclass
class PasswordReissueRequested(Intent):
    """Ask the service again for the patient's initial password (the first answer was lost
    and the reissue after it failed)."""


@dataclass
class NewPasswordRequested(Intent):
    """F9 at step 2, the patient's DMP active with its online access open: a new initial
    password (the first sheet was lost), on a new codes sheet."""


@dataclass
class WaitCancelRequested(Intent):
    """Esc while the screen waits for the service (INSi, the status, a creation, a send):
    stop waiting; nothing typed is lost, and a write resent later is not doubled."""


@dataclass
class RecordRequested(Intent):
    """F9 on the summary after the service could not be reached: record the creation on
    the workstation instead (sent when the service answers)."""


@dataclass
class SlipPrintRequested(Intent):
    """F5 on the recorded screen: print the patient's slip (never saved)."""


@dataclass
class OutboxRequested(Intent):
    """Open the list of creations recorded offline."""


@dataclass
class OutboxLoadRequested(Intent):
    """The outbox screen asks for its list (and the state of the session)."""


@dataclass
class OutboxSendRequested(Intent):
    """Send the pending entries now (``entry_id``: that one, held or not)."""

    entry_id: str | None = None


@dataclass
class OutboxAcceptRequested(Intent):
    """The professional accepts INSi's identity for a held entry, then it is sent."""

    entry_id: str


@dataclass
class OutboxDropRequested(Intent):
    """The professional gives a recorded creation up (after confirming)."""

    entry_id: str


@dataclass
class OutboxDetailRequested(Intent):
    """Enter on an entry: its detail (the identity held, the choices, the reason)."""

    entry_id: str


# --- results (App → the screen that asked) ----------------------------------------------------


@dataclass
class Result(Message, bubble=False):
    """What a controller found, for the screen that asked."""


@dataclass
class JobFailed(Result):
    """A request failed: ``code`` is stable (problems vocabulary), ``message`` is French."""

    job: str
    code: str
    message: str


@dataclass
class PinStatusRead(Result):
    status: Any  # proclient.credentials.pin.PinStatus


@dataclass
class CodeVerified(Result):
    """What the scanned code proves: a proclient.core.proof.verdict.Verdict."""

    verdict: Any


@dataclass
class EcpsWaiting(Result):
    """The phone was asked: seconds left before the request expires."""

    seconds_left: int


@dataclass
class Connected(Result):
    """The professional is authenticated; INSi and the existence test have answered, or the
    traits are needed to ask INSi (see the flow: ``insi``, ``identity``, ``dmp_state``)."""


@dataclass
class PasswordIssued(Result):
    """The initial password was had again (F9): the secrets sheet can be printed now."""


@dataclass
class ServiceState(Result):
    """The DMP service's state changed (or was checked): every screen that speaks of it
    follows. ``reachable``: None while unknown."""

    label: str
    reachable: bool | None = None


@dataclass
class OutboxSent(Result):
    """A send run of the outbox ended: the entries whose DMP was created, those still
    waiting (told to every screen: a recorded screen whose entry went says so)."""

    created: tuple[str, ...] = ()
    pending: int = 0


@dataclass
class JournalLoaded(Result):
    entries: list = field(default_factory=list)
    error: str = ""


@dataclass
class HomeStatus(Result):
    """The reader's and the service's state, and the prompt, for the home screen."""

    reader: str
    service: str
    prompt: str = ""
    outbox: str = ""
    """« n créations en attente … », or "" when there is none."""


@dataclass
class OutboxLoaded(Result):
    """The outbox list (summaries: nothing that names a patient) and whether sending can
    happen now (a session open and the service reachable), or why not."""

    summaries: list = field(default_factory=list)
    can_send: bool = False
    why_not: str = ""
    needs_pin: bool = False
    """The service answers but no session is open: the code porteur is asked here."""


@dataclass
class OutboxDetailLoaded(Result):
    """One entry's detail lines (shown on the outbox screen only)."""

    entry_id: str
    lines: list = field(default_factory=list)
