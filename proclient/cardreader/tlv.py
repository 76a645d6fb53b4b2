"""A small BER-TLV parser and encoder for card data (ISO 7816-4 §5.2).

Whatever the card sends, parsing either returns objects or raises CardError(MALFORMED): a
garbled card must never surface as an IndexError deep in the UI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from proclient.cardreader.errors import MALFORMED, CardError

# ISO 7816-4: '00' and 'FF' may stand before, between or after objects (erased data, padding
# of fixed-size files); they are not tags.
_PADDING = (0x00, 0xFF)
_MAX_TAG_BYTES = 3


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        """True for a template (its value holds further TLV objects)."""
        first = self.tag.to_bytes((self.tag.bit_length() + 7) // 8 or 1, "big")[0]
        return bool(first & 0x20)

    def children(self) -> list[Tlv]:
        return parse(self.value)


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    tag = data[pos]
    pos += 1
    if tag & 0x1F != 0x1F:
        return tag, pos
    # Subsequent tag bytes carry bit 8 while more follow.
    for _more in range(_MAX_TAG_BYTES - 1):
        if pos >= len(data):
            raise CardError(MALFORMED)
        byte = data[pos]
        pos += 1
        tag = (tag << 8) | byte
        if not byte & 0x80:
            return tag, pos
    raise CardError(MALFORMED)


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise CardError(MALFORMED)
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    if first == 0x81:
        if pos + 1 > len(data):
            raise CardError(MALFORMED)
        return data[pos], pos + 1
    if first == 0x82:
        if pos + 2 > len(data):
            raise CardError(MALFORMED)
        return int.from_bytes(data[pos : pos + 2], "big"), pos + 2
    # 0x80 (indefinite) is not DER and 83+ would exceed any card file.
    raise CardError(MALFORMED)


def parse(data: bytes) -> list[Tlv]:
    """The TLV objects at one level of ``data``, in order (templates are not descended)."""
    if not isinstance(data, bytes | bytearray):
        raise CardError(MALFORMED)
    data = bytes(data)
    items: list[Tlv] = []
    pos = 0
    while pos < len(data):
        if data[pos] in _PADDING:
            pos += 1
            continue
        tag, pos = _read_tag(data, pos)
        length, pos = _read_length(data, pos)
        end = pos + length
        if end > len(data):
            raise CardError(MALFORMED)
        items.append(Tlv(tag, data[pos:end]))
        pos = end
    return items


def first(items: Iterable[Tlv], tag: int) -> Tlv | None:
    """The first object with ``tag``, or None (later duplicates are ignored)."""
    return next((item for item in items if item.tag == tag), None)


def encode(tag: int, value: bytes) -> bytes:
    """One TLV object (tags of 1 to 3 bytes, lengths up to 65535)."""
    if not 0 < tag <= 0xFFFFFF:
        raise ValueError("tag out of range")
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n <= 0xFF:
        length = bytes([0x81, n])
    elif n <= 0xFFFF:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    else:
        raise ValueError("value too long for a card file")
    return tag_bytes + length + bytes(value)


def encode_all(items: Iterable[tuple[int, bytes]]) -> bytes:
    return b"".join(encode(tag, value) for tag, value in items)
