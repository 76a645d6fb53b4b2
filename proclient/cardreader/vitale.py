"""Reading a Carte Vitale 2 from APDU answers only (layout: cardpeek vitale_2.lua, DOMAIN.md §3).

Under the MF, EF SFI 2 holds ``65 {80 last name, 81 first name, 82 birth date}`` per
beneficiary; under the VITALE application, EF SFI 2 holds ``65 {93 NIR, 90 nationality}`` in
the same order. A read is 4 APDUs on a plain card (plus GET RESPONSEs and re-sends on T=0).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from proclient.cardreader import tlv
from proclient.cardreader.apdu import T0Transport, select_aid, select_mf
from proclient.cardreader.atr import CPS_ATRS
from proclient.cardreader.errors import (
    CARD_MUTE,
    MALFORMED,
    NO_BENEFICIARY,
    NOT_VITALE,
    VITALE1_UNREADABLE,
    CardError,
)
from proclient.cardreader.port import CardConnection
from proclient.core.domain import Beneficiary, BirthDate, CardType, VitaleCard
from proclient.core.i18n import _

AID_VITALE = bytes.fromhex("D250000002564954414C45")
AID_VITALE_MF = bytes.fromhex("D2500000024D465F564954414C45")
SFI_BENEFICIARIES = 2  # the same short file id under the MF (identities) and VITALE (NIRs)

TAG_BENEFICIARY = 0x65
TAG_CARD = 0x66
TAG_LAST_NAME = 0x80
TAG_FIRST_NAME = 0x81
TAG_BIRTH_DATE = 0x82
TAG_NATIONALITY = 0x90
TAG_NIR = 0x93
TAG_VALIDITY_START = 0x80  # inside 66

_VITALE2_X = frozenset({0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xB, 0xC})


@dataclass(frozen=True)
class Identity:
    """One beneficiary's identity as read under the MF (the NIR comes from VITALE)."""

    last_name: str
    first_name: str
    birth_date: BirthDate


def card_type_from_atr(atr: bytes) -> CardType:
    """Recognise the card from its ATR alone: Vitale 2, Vitale 1, CPS, or unknown."""
    atr = bytes(atr)
    if (
        len(atr) == 10
        and atr[:5] == b"\x3b\x75\x13\x00\x00"
        and atr[5] >> 4 == 0x4
        and atr[5] & 0x0F in _VITALE2_X
        and atr[6:] == b"\x09\xea\x90\x00"
    ):
        return CardType.VITALE2
    if atr[:4] == b"\x3f\x65\x25\x00":
        return CardType.VITALE1
    if atr in CPS_ATRS:
        return CardType.CPS
    return CardType.UNKNOWN


def _require_vitale2(atr: bytes) -> bool:
    """Refuse the cards known by their ATR not to be a Vitale 2; True when the ATR says
    nothing and the card must be asked (a Vitale 2 batch with an ATR not in the record)."""
    if not atr:
        raise CardError(CARD_MUTE)
    card_type = card_type_from_atr(atr)
    if card_type is CardType.VITALE2:
        return False
    if card_type is CardType.UNKNOWN:
        return True
    if card_type is CardType.VITALE1:
        raise CardError(VITALE1_UNREADABLE)
    if card_type is CardType.CPS:
        raise CardError(
            NOT_VITALE,
            _(
                "Cette carte est une carte de professionnel de santé (CPS) : "
                "insérez la carte Vitale du patient dans le lecteur patient."
            ),
        )
    raise CardError(NOT_VITALE)


def _text(value: bytes) -> str:
    """Latin-1 text without its padding; control characters mean a garbled file."""
    text = value.decode("latin-1").strip(" \x00\xff")
    # C0/C1 controls (escape sequences included) have no place in a name and would reach
    # the terminal and the printed receipt.
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text):
        raise CardError(MALFORMED)
    return text


def _templates(data: bytes) -> list[list[tlv.Tlv]]:
    """The contents of the beneficiary templates; 66 and unknown tags are skipped."""
    return [item.children() for item in tlv.parse(data) if item.tag == TAG_BENEFICIARY]


def parse_identities(data: bytes) -> list[Identity]:
    """The beneficiaries' identities from the MF's EF 2, in card order."""
    identities = []
    for fields in _templates(data):
        last = tlv.first(fields, TAG_LAST_NAME)
        first = tlv.first(fields, TAG_FIRST_NAME)
        born = tlv.first(fields, TAG_BIRTH_DATE)
        if last is None or born is None:
            raise CardError(MALFORMED)
        last_name = _text(last.value)
        birth = _text(born.value)
        # Lunar dates (00 month or day) are digits too: kept as read, never corrected.
        if not last_name or len(birth) != 8 or not birth.isascii() or not birth.isdigit():
            raise CardError(MALFORMED)
        first_name = _text(first.value) if first is not None else ""
        identities.append(Identity(last_name, first_name, BirthDate(birth)))
    return identities


def parse_nirs(data: bytes) -> list[str | None]:
    """Each beneficiary's own NIR from VITALE's EF 2, in card order (None when absent)."""
    nirs: list[str | None] = []
    for fields in _templates(data):
        item = tlv.first(fields, TAG_NIR)
        nir = _text(item.value).upper() if item is not None else ""
        if not nir:
            nirs.append(None)
            continue
        # The key is checked by the domain (Patient.from_beneficiary); here only the shape.
        if len(nir) != 15 or not nir.isascii() or not nir.isalnum():
            raise CardError(MALFORMED)
        nirs.append(nir)
    return nirs


def _transaction(connection: CardConnection) -> AbstractContextManager[object]:
    """The connection's exclusive-access context when it offers one, else nothing.

    A read is a sequence of SELECTs and READs: another reader of the same card interleaving
    its own SELECT would make us read the wrong file.
    """
    transaction = getattr(connection, "transaction", None)
    return transaction() if callable(transaction) else nullcontext()


def read_vitale(connection: CardConnection, *, transport: T0Transport | None = None) -> VitaleCard:
    """Read the beneficiaries of the Carte Vitale 2 behind ``connection``.

    Pass a ``transport`` to count the APDUs afterwards. Raises only CardError.
    """
    atr = bytes(connection.atr)
    ask_the_card = _require_vitale2(atr)
    transport = transport or T0Transport(connection)
    with _transaction(connection):
        if ask_the_card and transport.transmit(select_aid(AID_VITALE)).sw != 0x9000:
            raise CardError(NOT_VITALE)
        # Select the MF explicitly: on a second read, or after another application, another
        # DF may be current.
        transport.transmit_ok(select_mf())
        identities = parse_identities(transport.read_file(SFI_BENEFICIARIES))
        if not identities:
            raise CardError(NO_BENEFICIARY)
        transport.transmit_ok(select_aid(AID_VITALE))
        nirs = parse_nirs(transport.read_file(SFI_BENEFICIARIES))
    # Pairing by position is the card's contract; a count mismatch could give a person
    # someone else's NIR, so it is refused rather than guessed.
    if len(nirs) != len(identities):
        raise CardError(MALFORMED)
    return VitaleCard(
        atr=atr.hex(" ").upper(),
        beneficiaries=tuple(
            Beneficiary(i.last_name, i.first_name, i.birth_date, nir)
            for i, nir in zip(identities, nirs, strict=True)
        ),
        card_type=CardType.VITALE2,
    )
