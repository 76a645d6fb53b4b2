"""APDU building and the T=0 transport: 61xx (GET RESPONSE) and 6Cxx (re-send) in one place.

PC/SC leaves both to the application (pyscard does neither), and a card that misbehaves must
not keep us looping: every chain is bounded in number of exchanges and in bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from proclient.cardreader.errors import MALFORMED, STATUS_WORD, CardError
from proclient.cardreader.port import CardConnection

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # data returned, but the file ended before Le bytes
SW_WRONG_OFFSET = 0x6B00

MAX_GET_RESPONSES = 16
MAX_RESPONSE_LENGTH = 16 * 256


@dataclass(frozen=True)
class Response:
    """A complete response after T=0 handling: the data and the final status word."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK


# --- Command builders --------------------------------------------------------------------------


def select_mf() -> bytes:
    """SELECT the master file by its file id 3F00 (no response data asked)."""
    return bytes.fromhex("00A40000023F00")


def select_aid(aid: bytes) -> bytes:
    """SELECT a DF by application identifier (case 3: no FCI asked, saves a GET RESPONSE)."""
    if not 1 <= len(aid) <= 16:
        raise ValueError("an AID has 1 to 16 bytes")
    return bytes([0x00, 0xA4, 0x04, 0x00, len(aid)]) + aid


def select_fid(fid: int) -> bytes:
    """SELECT an EF or DF by its 2-byte file id under the current DF."""
    return bytes([0x00, 0xA4, 0x00, 0x00, 0x02]) + fid.to_bytes(2, "big")


def read_binary_sfi(sfi: int, offset: int = 0, le: int = 0) -> bytes:
    """READ BINARY of the EF with short file id ``sfi`` (selects it); Le 0 means 256."""
    if not 1 <= sfi <= 30 or not 0 <= offset <= 0xFF or not 0 <= le <= 0xFF:
        raise ValueError("SFI 1..30, offset and Le on one byte")
    return bytes([0x00, 0xB0, 0x80 | sfi, offset, le])


def read_binary(offset: int, le: int = 0) -> bytes:
    """READ BINARY of the current EF at a 15-bit offset; Le 0 means 256."""
    if not 0 <= offset <= 0x7FFF or not 0 <= le <= 0xFF:
        raise ValueError("offset on 15 bits, Le on one byte")
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, le])


def get_response(le: int) -> bytes:
    """GET RESPONSE for ``le`` bytes (0 means 256), as asked by a 61xx status word."""
    return bytes([0x00, 0xC0, 0x00, 0x00, le & 0xFF])


def with_le(apdu: bytes, le: int) -> bytes:
    """The same command with Le replaced (cases 2 and 4) or added (cases 1 and 3)."""
    if len(apdu) < 4:
        raise ValueError("an APDU has at least 4 bytes")
    if len(apdu) == 4:
        return apdu + bytes([le])
    if len(apdu) == 5:
        return apdu[:4] + bytes([le])
    lc = apdu[4]
    if len(apdu) == 5 + lc:
        return apdu + bytes([le])
    return apdu[: 5 + lc] + bytes([le])


# --- Transport -----------------------------------------------------------------------------------


class T0Transport:
    """Sends APDUs over a raw CardConnection and hides the T=0 dialogue from callers.

    ``apdu_count`` counts every exchange with the card, GET RESPONSEs and re-sends included.
    """

    def __init__(
        self,
        connection: CardConnection,
        *,
        max_get_responses: int = MAX_GET_RESPONSES,
        max_length: int = MAX_RESPONSE_LENGTH,
    ) -> None:
        self.connection = connection
        self.max_get_responses = max_get_responses
        self.max_length = max_length
        self.apdu_count = 0

    def _exchange(self, apdu: bytes) -> tuple[bytes, int]:
        self.apdu_count += 1
        data, sw = self.connection.transmit(apdu)
        # A backend that hands back something else is as broken as a garbled card answer.
        if not isinstance(data, bytes | bytearray) or not isinstance(sw, int):
            raise CardError(MALFORMED)
        if not 0 <= sw <= 0xFFFF:
            raise CardError(MALFORMED)
        return bytes(data), sw

    def transmit(self, apdu: bytes) -> Response:
        """Send ``apdu``; follow 61xx with GET RESPONSE and re-send once on 6Cxx."""
        data, sw = self._exchange(apdu)
        chunks: list[bytes] = []
        total = 0
        get_responses = 0
        resent = False
        while True:
            sw1, sw2 = sw >> 8, sw & 0xFF
            if sw1 == 0x6C and not resent:
                # Wrong Le: the card tells the right one; its (empty) data is discarded.
                resent = True
                apdu = with_le(apdu, sw2)
                data, sw = self._exchange(apdu)
                continue
            total += len(data)
            if total > self.max_length:
                raise CardError(MALFORMED)
            chunks.append(data)
            if sw1 != 0x61:
                return Response(b"".join(chunks), sw)
            get_responses += 1
            if get_responses > self.max_get_responses:
                raise CardError(MALFORMED)
            apdu = get_response(sw2)
            resent = False  # each GET RESPONSE may itself be corrected once
            data, sw = self._exchange(apdu)

    def transmit_ok(self, apdu: bytes) -> bytes:
        """Send ``apdu`` and return its data; any final status word but 9000 is a CardError."""
        response = self.transmit(apdu)
        if not response.ok:
            raise CardError(STATUS_WORD, sw=response.sw)
        return response.data

    def read_file(self, sfi: int, *, max_chunks: int = 16) -> bytes:
        """The content of the EF ``sfi`` under the current DF, read 256 bytes at a time.

        A full 256-byte answer may mean more data follows; the file's end then shows as a
        shorter answer, 6282 (end of file) or 6B00 (offset beyond the end).
        """
        command = read_binary_sfi(sfi)
        content = bytearray()
        for _chunk in range(max_chunks):
            response = self.transmit(command)
            if response.sw not in (SW_OK, SW_END_OF_FILE):
                if content and response.sw == SW_WRONG_OFFSET:
                    return bytes(content)
                raise CardError(STATUS_WORD, sw=response.sw)
            content += response.data
            if len(response.data) < 256 or response.sw == SW_END_OF_FILE:
                return bytes(content)
            if len(content) > 0x7FFF:
                break
            command = read_binary(len(content))
        raise CardError(MALFORMED)
