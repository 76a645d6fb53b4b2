"""The demo's hand of cards: insert or pull a virtual Carte Vitale, pull or put back the CPS.

Two decks stand behind one interface: the in-process virtual readers (``proclient demo``,
tests) and vpcd bridges into a real pcscd (``proclient demo --pcsc``). The App only sees a
:class:`DemoDeck` (None outside the demo); the cards then reach it through the reader port,
as real cards do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from proclient.cardreader.cps_emulator import CpsEmulator
from proclient.cardreader.emulator import VitaleEmulator
from proclient.cardreader.virtual import VirtualReaderBackend


@dataclass(frozen=True)
class DemoCardChoice:
    key: str
    label: str


class DemoDeck(Protocol):
    @property
    def choices(self) -> tuple[DemoCardChoice, ...]: ...

    def insert(self, key: str) -> None:
        """Put the demo card ``key`` in the patient's reader (pulling the one there first)."""

    def remove(self) -> None:
        """Pull the card from the patient's reader."""

    def toggle_cps(self) -> None:
        """Pull the professional's CPS, or put it back."""

    def cps_present(self) -> bool: ...


def demo_choices() -> tuple[DemoCardChoice, ...]:
    from proclient.cardreader.demo_cards import DEMO_CARDS

    return tuple(DemoCardChoice(key, card.label) for key, card in DEMO_CARDS.items())


class VirtualDeck:
    """The four demo cards and the demo CPS in the in-process virtual readers."""

    def __init__(
        self, readers: VirtualReaderBackend, patient_reader: str, professional_reader: str
    ) -> None:
        self.readers = readers
        self.patient_reader, self.professional_reader = patient_reader, professional_reader
        self.choices = demo_choices()

    def insert(self, key: str) -> None:
        if self.readers.card_in(self.patient_reader) is not None:
            self.readers.remove(self.patient_reader)
        self.readers.insert(self.patient_reader, VitaleEmulator.from_demo(key))

    def remove(self) -> None:
        self.readers.remove(self.patient_reader)

    def cps_present(self) -> bool:
        return self.readers.card_in(self.professional_reader) is not None

    def toggle_cps(self) -> None:
        if self.cps_present():
            self.readers.remove(self.professional_reader)
        else:
            self.readers.insert(self.professional_reader, CpsEmulator(3))


class VpcdDeck:
    """The demo cards served to a real pcscd through its vpcd slots (patient, professional).

    ``presence`` is the in-process deck whose CPS the demo credential follows: pulling the
    CPS here pulls it there too, so that the credential is refused as a pulled CPS is."""

    def __init__(self, patient, professional, presence: VirtualDeck) -> None:
        self.patient, self.professional, self.presence = patient, professional, presence
        self.choices = presence.choices

    def insert(self, key: str) -> None:
        self.patient.replace(VitaleEmulator.from_demo(key))

    def remove(self) -> None:
        self.patient.remove()

    def cps_present(self) -> bool:
        return self.presence.cps_present()

    def toggle_cps(self) -> None:
        self.presence.toggle_cps()
        if self.professional.inserted:
            self.professional.remove()
        else:
            self.professional.insert()
