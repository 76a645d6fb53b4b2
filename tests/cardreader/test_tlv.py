"""BER-TLV parsing: whatever the card sends, objects or CardError(MALFORMED), nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proclient.cardreader import tlv
from proclient.cardreader.errors import CardError


def test_short_form_objects_in_order() -> None:
    items = tlv.parse(bytes.fromhex("8003414243 8100 820231 32"))
    assert [(i.tag, i.value) for i in items] == [(0x80, b"ABC"), (0x81, b""), (0x82, b"12")]


def test_long_lengths_81_and_82() -> None:
    value_200 = bytes(range(200))
    value_300 = bytes(300)
    data = tlv.encode(0x80, value_200) + tlv.encode(0x81, value_300)
    assert data[1:3] == b"\x81\xc8" and data[204:207] == b"\x82\x01\x2c"
    items = tlv.parse(data)
    assert [(i.tag, i.value) for i in items] == [(0x80, value_200), (0x81, value_300)]


def test_two_byte_tags() -> None:
    items = tlv.parse(bytes.fromhex("5F2002 4142 7F2103 800141"))
    assert [i.tag for i in items] == [0x5F20, 0x7F21]
    assert items[1].constructed and items[1].children()[0].value == b"A"


def test_template_children() -> None:
    template = tlv.parse(tlv.encode(0x65, tlv.encode(0x80, b"X") + tlv.encode(0x93, b"Y")))[0]
    assert template.constructed
    assert [(c.tag, c.value) for c in template.children()] == [(0x80, b"X"), (0x93, b"Y")]


def test_padding_bytes_between_and_after_objects_are_skipped() -> None:
    data = b"\x00\x00" + tlv.encode(0x80, b"A") + b"\xff\xff" + tlv.encode(0x81, b"B") + bytes(40)
    assert [i.tag for i in tlv.parse(data)] == [0x80, 0x81]


def test_first_keeps_the_first_of_duplicates() -> None:
    items = tlv.parse(tlv.encode(0x80, b"A") + tlv.encode(0x80, b"B"))
    assert tlv.first(items, 0x80).value == b"A"
    assert tlv.first(items, 0x81) is None


@pytest.mark.parametrize(
    "hexdata",
    [
        "8005414243",  # value shorter than its length
        "80",  # tag without length
        "8081",  # 81 without its length byte
        "808205",  # 82 with one length byte of two
        "8080",  # indefinite length
        "808301000001",  # 3-byte length form
        "5F",  # 2-byte tag cut after the first byte
        "5F8181",  # tag longer than 3 bytes
        "6505800541",  # template whose inner length overruns: detected on children()
    ],
)
def test_truncated_or_wrong_lengths_are_malformed(hexdata: str) -> None:
    with pytest.raises(CardError) as caught:
        for item in tlv.parse(bytes.fromhex(hexdata)):
            item.children()
    assert caught.value.code == "MALFORMED"


def test_non_bytes_input_is_malformed() -> None:
    with pytest.raises(CardError):
        tlv.parse("8001 41")  # type: ignore[arg-type]


def test_encode_refuses_what_a_card_file_cannot_hold() -> None:
    with pytest.raises(ValueError):
        tlv.encode(0x80, bytes(70000))
    with pytest.raises(ValueError):
        tlv.encode(0, b"")


@given(st.binary(max_size=600))
def test_parser_on_arbitrary_bytes_raises_only_card_error(data: bytes) -> None:
    try:
        for item in tlv.parse(data):
            for child in item.children():
                child.children()
    except CardError as error:
        assert error.code == "MALFORMED"


_tags = st.one_of(
    st.integers(0x01, 0xFE).filter(lambda t: t & 0x1F != 0x1F),
    st.integers(0x00, 0x7F).map(lambda low: 0x5F00 | low),
)


@given(st.lists(st.tuples(_tags, st.binary(max_size=300)), max_size=6))
def test_encode_then_parse_gives_back_the_objects(objects: list[tuple[int, bytes]]) -> None:
    items = tlv.parse(tlv.encode_all(objects))
    assert [(i.tag, i.value) for i in items] == objects
