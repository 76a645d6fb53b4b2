"""Fuzzing the Vitale parsers and the T=0 transport with hypothesis (no card stack needed).

PROCLIENT_FUZZ_EXAMPLES=100000 raises the example count for a long run (default: quick).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[2] / "fuzz"))

import targets  # noqa: E402

EXAMPLES = int(os.environ.get("PROCLIENT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def answer(data: bytes, sw: int) -> bytes:
    body = data + sw.to_bytes(2, "big")
    return bytes([len(body)]) + body


# Answers that look like a T=0 card's: 61xx chains, 6Cxx corrections, 9000, errors.
status_words = st.one_of(
    st.integers(0x6100, 0x61FF),
    st.integers(0x6C00, 0x6CFF),
    st.just(0x9000),
    st.sampled_from([0x6282, 0x6B00, 0x6A82, 0x6700]),
    st.integers(0, 0xFFFF),
)
answers = st.builds(answer, st.binary(max_size=40), status_words)


@FUZZ
@given(st.binary(max_size=600))
def test_vitale_parsers_raise_only_card_error(data: bytes) -> None:
    targets.parsers(data)


@FUZZ
@given(st.lists(answers, max_size=40).map(b"".join))
def test_t0_transport_is_bounded_and_raises_only_card_error(script: bytes) -> None:
    targets.transport(script)


@FUZZ
@given(st.lists(answers, max_size=12).map(b"".join))
def test_whole_read_against_a_scripted_card_raises_only_card_error(script: bytes) -> None:
    targets.whole_read(script)


def test_endless_61xx_chain_is_cut_by_the_transport() -> None:
    from proclient.cardreader.apdu import T0Transport
    from proclient.cardreader.errors import MALFORMED, CardError

    card = targets.ScriptedCard(answer(b"x", 0x6101) * 100)  # 61 01 forever
    try:
        T0Transport(card).transmit(bytes.fromhex("00B0820000"))
    except CardError as error:
        assert error.code == MALFORMED
    else:
        raise AssertionError("an endless GET RESPONSE chain must be refused")
    assert card.sent == 1 + 16  # the command and the 16 GET RESPONSEs allowed, no more
