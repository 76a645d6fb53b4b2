"""A Carte Vitale 2 that answers APDUs, for the demo, the tests and the vpcd bridge.

Layout as in vitale.py. The emulator's own choices (the public record is silent): EF file
ids 2002 (beneficiaries, SFI 2) under both the MF and VITALE, the 66 template first in the
MF's EF, nationality "FRA", the names in EF 2001 POINTERS.
Fault knobs for tests: ``t0_mode`` (answers come as 61xx, ``t0_chunk`` bytes per GET
RESPONSE), ``wrong_le`` (6Cxx when Le exceeds the data), ``pull_at`` (the card is pulled at
that APDU, 1-based: it gets no answer and CardError CARD_REMOVED is raised).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from proclient.cardreader.atr import VITALE1_ATR, VITALE2_ATR  # noqa: F401 (VITALE1_ATR: API)
from proclient.cardreader.demo_cards import demo_card
from proclient.cardreader.errors import CARD_REMOVED, CardError
from proclient.cardreader.tlv import encode
from proclient.cardreader.vitale import (
    AID_VITALE,
    AID_VITALE_MF,
    SFI_BENEFICIARIES,
    TAG_BENEFICIARY,
    TAG_BIRTH_DATE,
    TAG_CARD,
    TAG_FIRST_NAME,
    TAG_LAST_NAME,
    TAG_NATIONALITY,
    TAG_NIR,
    TAG_VALIDITY_START,
)
from proclient.core.domain import Beneficiary

FID_MF = 0x3F00
FID_POINTERS = 0x2001
FID_BENEFICIARIES = 0x2002

SW_OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_NO_CURRENT_EF = 0x6986
SW_NO_PENDING_DATA = 0x6985
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_WRONG_OFFSET = 0x6B00
SW_UNKNOWN_INS = 0x6D00
SW_UNKNOWN_CLA = 0x6E00


@dataclass
class _EF:
    fid: int
    sfi: int
    data: bytes


@dataclass
class _DF:
    aid: bytes
    efs: list[_EF] = field(default_factory=list)

    def by_sfi(self, sfi: int) -> _EF | None:
        return next((ef for ef in self.efs if ef.sfi == sfi), None)

    def by_fid(self, fid: int) -> _EF | None:
        return next((ef for ef in self.efs if ef.fid == fid), None)


def encode_identities(beneficiaries: Iterable[Beneficiary], validity_start: str = "") -> bytes:
    """The MF's EF 2: a 66 card template, then ``65 {80, 81, 82}`` per beneficiary (Latin-1)."""
    out = b""
    if validity_start:
        out += encode(TAG_CARD, encode(TAG_VALIDITY_START, validity_start.encode("ascii")))
    for b in beneficiaries:
        out += encode(
            TAG_BENEFICIARY,
            encode(TAG_LAST_NAME, b.last_name.encode("latin-1"))
            + encode(TAG_FIRST_NAME, b.first_name.encode("latin-1"))
            + encode(TAG_BIRTH_DATE, b.birth_date.raw.encode("latin-1")),
        )
    return out


def encode_nirs(beneficiaries: Iterable[Beneficiary], nationality: str = "FRA") -> bytes:
    """VITALE's EF 2: ``65 {93 NIR, 90 nationality}`` per beneficiary, no 93 when absent."""
    out = b""
    for b in beneficiaries:
        nir = encode(TAG_NIR, b.nir.encode("ascii")) if b.nir else b""
        out += encode(TAG_BENEFICIARY, nir + encode(TAG_NATIONALITY, nationality.encode("ascii")))
    return out


def encode_pointers() -> bytes:
    """EF 2001 POINTERS: ``E0 {A0 {82 application…}, 80 file…}`` (entry, name, file id)."""
    apps = encode(0x82, b"\x01\x00\x00\x00" + AID_VITALE_MF) + encode(
        0x82, b"\x02\x00\x00\x00" + AID_VITALE
    )
    files = encode(0x80, b"IDENTITE\x01\x00" + FID_BENEFICIARIES.to_bytes(2, "big")) + encode(
        0x80, b"NIR     \x02\x00" + FID_BENEFICIARIES.to_bytes(2, "big")
    )
    return encode(0xE0, encode(0xA0, apps) + files)


class VitaleEmulator:
    """A Carte Vitale 2 answering APDUs; also usable directly as a CardConnection."""

    def __init__(
        self,
        identity_file: bytes,
        nir_file: bytes,
        *,
        atr: bytes = VITALE2_ATR,
        pointers: bool = True,
        t0_mode: bool = False,
        t0_chunk: int = 256,
        wrong_le: bool = False,
        pull_at: int | None = None,
    ) -> None:
        self._atr = bytes(atr)
        self.mf = _DF(AID_VITALE_MF, [_EF(FID_BENEFICIARIES, SFI_BENEFICIARIES, identity_file)])
        self.vitale = _DF(AID_VITALE, [_EF(FID_BENEFICIARIES, SFI_BENEFICIARIES, nir_file)])
        if pointers:
            self.vitale.efs.append(_EF(FID_POINTERS, 1, encode_pointers()))
        self.t0_mode = t0_mode
        self.t0_chunk = max(1, t0_chunk)
        self.wrong_le = wrong_le
        self.pull_at = pull_at
        self.apdu_count = 0
        self.removed = False
        self.reset()

    @classmethod
    def from_beneficiaries(
        cls,
        beneficiaries: Iterable[Beneficiary],
        *,
        validity_start: str = "20190102",
        nationality: str = "FRA",
        **options: object,
    ) -> VitaleEmulator:
        """A card carrying ``beneficiaries`` in this order (text must fit Latin-1)."""
        people = tuple(beneficiaries)
        return cls(
            encode_identities(people, validity_start),
            encode_nirs(people, nationality),
            **options,  # type: ignore[arg-type]
        )

    @classmethod
    def from_demo(cls, key: str, **options: object) -> VitaleEmulator:
        """One of the demo cards: "legoff", "durand", "casanova", "bensaid"."""
        card = demo_card(key)
        return cls.from_beneficiaries(
            card.beneficiaries, validity_start=card.validity_start, **options
        )

    # --- the card's life ------------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        return self._atr

    def reset(self) -> None:
        """Power-on state: the MF is current, no EF, no pending response."""
        self.current_df = self.mf
        self.current_ef: _EF | None = None
        self._pending = b""

    def pull(self) -> None:
        """The card leaves the reader: every later APDU raises CARD_REMOVED."""
        self.removed = True

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        response = self.process(apdu)
        return response[:-2], int.from_bytes(response[-2:], "big")

    def disconnect(self) -> None:
        """Nothing to release: the card stays powered (shared mode)."""

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU with data + SW1 SW2."""
        if self.removed:
            raise CardError(CARD_REMOVED)
        self.apdu_count += 1
        if self.pull_at is not None and self.apdu_count >= self.pull_at:
            self.removed = True
            raise CardError(CARD_REMOVED)
        apdu = bytes(apdu)
        if len(apdu) >= 2 and apdu[1] != 0xC0:
            self._pending = b""  # only an immediate GET RESPONSE may fetch it
        data, sw = self._dispatch(apdu)
        if self.t0_mode and data and sw == SW_OK and apdu[1] != 0xC0:
            self._pending, data = data, b""
            sw = 0x6100 | (min(len(self._pending), 256) & 0xFF)
        return data + sw.to_bytes(2, "big")

    # --- command decoding ------------------------------------------------------------------

    def _dispatch(self, apdu: bytes) -> tuple[bytes, int]:
        if len(apdu) < 4:
            return b"", SW_WRONG_LENGTH
        cla, ins, p1, p2 = apdu[:4]
        if cla != 0x00:
            return b"", SW_UNKNOWN_CLA
        if ins not in (0xA4, 0xB0, 0xC0):
            return b"", SW_UNKNOWN_INS
        body: bytes | None = None
        le: int | None = None
        if len(apdu) == 5:
            le = apdu[4] or 256
        elif len(apdu) > 5:
            lc = apdu[4]
            if lc == 0 or len(apdu) not in (5 + lc, 6 + lc):
                return b"", SW_WRONG_LENGTH
            body = apdu[5 : 5 + lc]
            if len(apdu) == 6 + lc:
                le = apdu[-1] or 256
        if ins == 0xA4:
            return self._select(p1, p2, body, le)
        if body is not None or le is None:
            return b"", SW_WRONG_LENGTH
        if ins == 0xB0:
            return self._read_binary(p1, p2, le)
        return self._get_response(p1, p2, le)

    def _select(self, p1: int, p2: int, body: bytes | None, le: int | None) -> tuple[bytes, int]:
        if body is None:
            return b"", SW_WRONG_LENGTH
        if p2 not in (0x00, 0x0C) or p1 not in (0x00, 0x02, 0x04):
            return b"", SW_WRONG_P1P2
        if p1 == 0x04:
            df = next((d for d in (self.mf, self.vitale) if d.aid == body), None)
            if df is None:
                return b"", SW_FILE_NOT_FOUND
            self.current_df, self.current_ef = df, None
            fci = encode(0x6F, encode(0x84, df.aid))
        else:
            if len(body) != 2:
                return b"", SW_WRONG_LENGTH
            fid = int.from_bytes(body, "big")
            if p1 == 0x00 and fid == FID_MF:
                self.current_df, self.current_ef = self.mf, None
                fci = encode(0x6F, encode(0x83, body))
            else:
                ef = self.current_df.by_fid(fid)
                if ef is None:
                    return b"", SW_FILE_NOT_FOUND
                self.current_ef = ef
                fci = encode(
                    0x62, encode(0x83, body) + encode(0x80, len(ef.data).to_bytes(2, "big"))
                )
        # Case 3 (no Le) or P2=0C: no FCI, which spares the reader a GET RESPONSE.
        if le is None or p2 == 0x0C:
            return b"", SW_OK
        return fci[:le], SW_OK

    def _read_binary(self, p1: int, p2: int, le: int) -> tuple[bytes, int]:
        if p1 & 0x80:
            if p1 & 0x60:
                return b"", SW_WRONG_P1P2
            ef = self.current_df.by_sfi(p1 & 0x1F)
            if ef is None:
                return b"", SW_FILE_NOT_FOUND
            self.current_ef, offset = ef, p2
        else:
            if self.current_ef is None:
                return b"", SW_NO_CURRENT_EF
            ef, offset = self.current_ef, (p1 << 8) | p2
        if offset > len(ef.data) or (offset == len(ef.data) and offset > 0):
            return b"", SW_WRONG_OFFSET
        chunk = ef.data[offset : offset + le]
        if self.wrong_le and 0 < len(chunk) < le:
            return b"", 0x6C00 | len(chunk)
        return chunk, SW_OK

    def _get_response(self, p1: int, p2: int, le: int) -> tuple[bytes, int]:
        if p1 or p2:
            return b"", SW_WRONG_P1P2
        if not self._pending:
            return b"", SW_NO_PENDING_DATA
        n = min(le, len(self._pending), self.t0_chunk)
        data, self._pending = self._pending[:n], self._pending[n:]
        if self._pending:
            return data, 0x6100 | (min(len(self._pending), 256) & 0xFF)
        return data, SW_OK
