"""What the App is given: one adapter per port, and the workstation's choices.

The composition root (proclient/wiring.py) fills a :class:`Wiring`; the App and its
controllers only see this, never which adapters stand behind it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from proclient.cardreader.demo_deck import DemoDeck
from proclient.cardreader.port import ReaderBackend


@dataclass
class ServiceBinding:
    """The opened service: its client, the professional's credential source, a label."""

    client: object  # proclient.service.client.DmpServiceClient
    credentials: object  # a credential source: label, hint, pin_status(), unlock(pin)
    description: str
    phone: object | None = None
    """The demo's e-CPS phone (``approve(national_id)``, ``refuse(national_id)``); None outside
    the demo."""
    stop: Callable[[], None] | None = None
    """What to stop with the service (the demo's Pro Santé Connect stand-in)."""


@dataclass
class Wiring:
    """What the App is given: one adapter per port, and the workstation's choices."""

    demo: bool
    readers: ReaderBackend
    patient_reader: str
    receipts_dir: Path
    receipt_format: str
    open_service: Callable[[], ServiceBinding]
    """Blocking (may import the server and create keys): the App calls it from a thread."""
    professional_reader: str = ""
    """The CPS's reader: pulling the card there closes the session."""
    deck: DemoDeck | None = None
    """The demo's cards (insert, pull, the CPS out and back); None outside the demo."""
    network: object | None = None
    """The demo's network switch (``cut``, ``toggle()``): the embedded service made
    unreachable and back; None outside the demo."""
    today: Callable[[], date] = date.today
    idle_lock_minutes: int = 5
    """0: never lock on idle."""
    clock: Callable[[], float] = time.monotonic
    """Seconds, for the idle lock; tests drive it."""
    pending_dir: Path | None = None
    """Where writes' idempotency keys wait for their answer (survives a crash or a kill)."""
    printer: str | None = None
    """The CUPS queue from the settings; None: LPDEST, PRINTER, then the CUPS default."""
    auto_print: bool = False
    outbox: object | None = None
    """The creations recorded offline (proclient.outbox.port.Outbox); None: offline capture
    is not offered."""
    keymap: Mapping[str, str] = field(default_factory=dict)
    """Binding id → keys, from the settings' [keys] table."""
    national_id_file: Path | None = None
    """Where the e-CPS national id typed once is remembered; None: not remembered."""
    ecps_poll_pause: float = 1.0
    """Seconds between two polls of an e-CPS sign-in (tests shorten it)."""
    verify_trust: Callable[[], list] = list
    """Blocking: the DMP service's document-signing certificates this workstation trusts
    (« Vérifier un accusé »); raises DomainError with a sentence when none is set."""
