"""The T=0 transport: 61xx and 6Cxx handled once, bounded, and every exchange counted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proclient.cardreader import apdu
from proclient.cardreader.apdu import T0Transport
from proclient.cardreader.errors import CardError


class ScriptedCard:
    """A CardConnection answering from a list of (data, sw), recording what it was sent."""

    atr = b""

    def __init__(self, *answers: tuple[bytes, int]) -> None:
        self.answers = list(answers)
        self.sent: list[bytes] = []

    def transmit(self, command: bytes) -> tuple[bytes, int]:
        self.sent.append(command)
        if not self.answers:
            raise AssertionError("the transport sent more than the card expected")
        return self.answers.pop(0)

    def disconnect(self) -> None:
        pass


READ = bytes.fromhex("00B0820000")


def test_command_builders_match_the_vitale_apdus() -> None:
    assert apdu.select_mf().hex().upper() == "00A40000023F00"
    assert apdu.select_aid(bytes.fromhex("D250000002564954414C45")).hex().upper() == (
        "00A404000BD250000002564954414C45"
    )
    assert apdu.read_binary_sfi(2).hex().upper() == "00B0820000"
    assert apdu.read_binary(0x0100).hex().upper() == "00B0010000"
    assert apdu.get_response(0x1A).hex().upper() == "00C000001A"
    assert apdu.select_fid(0x2001).hex().upper() == "00A40000022001"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("00B08200", "00B0820010"),  # case 1: Le added
        ("00B0820000", "00B0820010"),  # case 2: Le replaced
        ("00A40000023F00", "00A40000023F0010"),  # case 3: Le added after the data
        ("00A40000023F0000", "00A40000023F0010"),  # case 4: Le replaced
    ],
)
def test_with_le_for_each_command_case(command: str, expected: str) -> None:
    assert apdu.with_le(bytes.fromhex(command), 0x10).hex().upper() == expected


def test_plain_answer_is_one_apdu() -> None:
    card = ScriptedCard((b"DATA", 0x9000))
    transport = T0Transport(card)
    assert transport.transmit(READ) == apdu.Response(b"DATA", 0x9000)
    assert transport.apdu_count == 1


def test_61xx_is_followed_by_get_response_with_that_length() -> None:
    card = ScriptedCard((b"", 0x611A), (b"x" * 0x1A, 0x9000))
    transport = T0Transport(card)
    assert transport.transmit_ok(READ) == b"x" * 0x1A
    assert card.sent[1].hex().upper() == "00C000001A"
    assert transport.apdu_count == 2


def test_chained_61_00_means_256_more_bytes_each_time() -> None:
    card = ScriptedCard(
        (b"", 0x6100),
        (b"a" * 256, 0x6100),
        (b"b" * 256, 0x6110),
        (b"c" * 16, 0x9000),
    )
    transport = T0Transport(card)
    assert transport.transmit_ok(READ) == b"a" * 256 + b"b" * 256 + b"c" * 16
    assert [c.hex().upper() for c in card.sent[1:]] == ["00C0000000", "00C0000000", "00C0000010"]
    assert transport.apdu_count == 4


def test_6cxx_resends_once_with_the_length_the_card_asks() -> None:
    card = ScriptedCard((b"", 0x6C2A), (b"z" * 0x2A, 0x9000))
    transport = T0Transport(card)
    assert transport.transmit_ok(READ) == b"z" * 0x2A
    assert card.sent == [READ, bytes.fromhex("00B082002A")]


def test_6cxx_then_61xx_is_followed_too() -> None:
    card = ScriptedCard((b"", 0x6C05), (b"", 0x6105), (b"12345", 0x9000))
    assert T0Transport(card).transmit_ok(READ) == b"12345"


def test_second_6cxx_is_not_resent_again() -> None:
    card = ScriptedCard((b"", 0x6C05), (b"", 0x6C04))
    with pytest.raises(CardError) as caught:
        T0Transport(card).transmit_ok(READ)
    assert caught.value.code == "STATUS_WORD" and caught.value.sw == 0x6C04
    assert len(card.sent) == 2


def test_endless_61xx_chain_is_cut_and_malformed() -> None:
    card = ScriptedCard(*[(b"", 0x6101)] + [(b"x", 0x6101)] * 100)
    transport = T0Transport(card, max_get_responses=16)
    with pytest.raises(CardError) as caught:
        transport.transmit(READ)
    assert caught.value.code == "MALFORMED"
    assert transport.apdu_count == 17


def test_answer_longer_than_the_bound_is_malformed() -> None:
    card = ScriptedCard((b"", 0x6100), *[(b"x" * 256, 0x6100)] * 10)
    with pytest.raises(CardError) as caught:
        T0Transport(card, max_length=1000).transmit(READ)
    assert caught.value.code == "MALFORMED"


@pytest.mark.parametrize("sw", [0x6A82, 0x6D00, 0x6E00, 0x6700, 0x6982, 0x6283])
def test_status_word_other_than_9000_is_a_card_error(sw: int) -> None:
    with pytest.raises(CardError) as caught:
        T0Transport(ScriptedCard((b"", sw))).transmit_ok(READ)
    assert caught.value.code == "STATUS_WORD" and caught.value.sw == sw
    assert f"{sw:04X}" in caught.value.message


@pytest.mark.parametrize("answer", [(None, 0x9000), (b"", "9000"), (b"", 0x19000), (b"", -1)])
def test_backend_answer_of_the_wrong_shape_is_malformed(answer: tuple[object, object]) -> None:
    with pytest.raises(CardError) as caught:
        T0Transport(ScriptedCard(answer)).transmit(READ)  # type: ignore[arg-type]
    assert caught.value.code == "MALFORMED"


def test_file_of_more_than_256_bytes_is_read_in_chunks() -> None:
    card = ScriptedCard((b"a" * 256, 0x9000), (b"b" * 10, 0x9000))
    assert T0Transport(card).read_file(2) == b"a" * 256 + b"b" * 10
    assert card.sent[1].hex().upper() == "00B0010000"


def test_file_of_exactly_256_bytes_ends_on_wrong_offset() -> None:
    card = ScriptedCard((b"a" * 256, 0x9000), (b"", 0x6B00))
    assert T0Transport(card).read_file(2) == b"a" * 256


def test_end_of_file_warning_6282_still_gives_the_data() -> None:
    card = ScriptedCard((b"abc", 0x6282))
    assert T0Transport(card).read_file(2) == b"abc"


def test_file_not_found_on_the_first_read_is_a_status_word_error() -> None:
    with pytest.raises(CardError) as caught:
        T0Transport(ScriptedCard((b"", 0x6B00))).read_file(2)
    assert caught.value.sw == 0x6B00


def test_file_that_never_ends_is_malformed() -> None:
    card = ScriptedCard(*[(b"x" * 256, 0x9000)] * 20)
    with pytest.raises(CardError) as caught:
        T0Transport(card).read_file(2, max_chunks=4)
    assert caught.value.code == "MALFORMED"
    assert len(card.sent) == 4


_answers = st.tuples(
    st.binary(max_size=300),
    st.one_of(
        st.integers(0, 0xFFFF),
        st.sampled_from([0x9000, 0x6100, 0x6101, 0x6C00, 0x6C10, 0x6282, 0x6B00]),
    ),
)


class CyclingCard(ScriptedCard):
    """Never runs out of answers: an unbounded transport would loop for ever on it."""

    def transmit(self, command: bytes) -> tuple[bytes, int]:
        self.sent.append(command)
        return self.answers[(len(self.sent) - 1) % len(self.answers)]


@given(st.lists(_answers, min_size=1, max_size=40))
def test_any_card_answers_give_a_response_or_card_error_within_bounds(answers) -> None:
    transport = T0Transport(CyclingCard(*answers))
    try:
        transport.read_file(2)
    except CardError:
        pass
    # 16 chunks at most, each with one re-send and up to 16 GET RESPONSEs (each re-sendable)
    assert transport.apdu_count <= 16 * (2 + 2 * 16)
