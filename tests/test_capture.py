"""The consent record of a creation captured offline (proclient.core.capture): its bytes are what
the professional's credential signs, so they must parse back to the same capture and only
the canonical form is a record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from proclient.core.capture import (
    CLOCK_SKEW,
    Capture,
    RecordInvalid,
    capture_age_problem,
    parse_record,
)
from proclient.core.domain import (
    BirthDate,
    Consent,
    IdentitySource,
    LegalRepresentative,
    Relationship,
    Sex,
)
from proclient.core.identity import Document, HeldIdentity

AT = datetime(2025, 3, 14, 9, 30, 5, tzinfo=UTC)


def capture(**changes) -> Capture:
    values = {
        "held": HeldIdentity(
            "DURAND",
            "Léa",
            BirthDate("20150603"),
            Sex.FEMALE,
            "215067511203450",
            IdentitySource.CARD,
            2,
            None,
        ),
        "document": Document.BIRTH_CERTIFICATE,
        "consent": Consent(creation=True, samu_access=False, break_glass_access=True),
        "legal_representative": LegalRepresentative(Relationship("MTH"), "DURAND", "Sophie"),
        "id_nat": "899700031216",
        "captured_at": AT,
    }
    return Capture(**{**values, **changes})


def test_a_record_parses_back_to_the_same_capture():
    for original in (
        capture(),
        capture(legal_representative=None),
        capture(
            held=HeldIdentity(
                "BEN SAÏD",
                "Karim",
                BirthDate("19550000"),
                None,
                None,
                IdentitySource.TYPED,
                None,
                "99350",
            ),
            document=Document.NONE,
        ),
    ):
        assert parse_record(original.record()) == original


def test_the_capture_time_is_recorded_in_utc():
    paris = capture(captured_at=AT.astimezone(timezone(timedelta(hours=1))))
    assert b'"captured_at":"2025-03-14T09:30:05+00:00"' in paris.record()
    assert parse_record(paris.record()).captured_at == AT


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda value: json.dumps(value, sort_keys=True).encode(),  # spaces
        lambda value: json.dumps(value, separators=(",", ":")).encode(),  # key order
        lambda value: json.dumps(value, sort_keys=True, separators=(",", ":")).encode(),  # \u
        lambda value: json.dumps(
            {**value, "extra": 1}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode(),
        lambda value: json.dumps(
            {**value, "v": True}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode(),
    ],
    ids=["spaces", "key order", "escaped accents", "extra key", "version true"],
)
def test_non_canonical_bytes_are_refused(rewrite):
    value = json.loads(capture().record())
    value["held"]["first_name"] = "Léa"
    data = rewrite(value)
    assert data != capture().record()
    with pytest.raises(RecordInvalid):
        parse_record(data)


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_an_unknown_version_is_refused(version):
    value = json.loads(capture().record())
    value["v"] = version
    with pytest.raises(RecordInvalid, match="version"):
        parse_record(json.dumps(value, sort_keys=True, separators=(",", ":")).encode())


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xfe", b"[]", b"null", b"[" * 10_000, b'{"v":1}'],
    ids=["empty", "not utf-8", "list", "null", "deep", "fields missing"],
)
def test_what_is_not_a_record_is_refused(data):
    with pytest.raises(RecordInvalid):
        parse_record(data)


def test_a_capture_time_without_a_time_zone_is_refused():
    data = capture().record().replace(b"+00:00", b"")
    with pytest.raises(RecordInvalid):
        parse_record(data)


def test_capture_age_problem_boundaries():
    now, week = AT, timedelta(days=7)
    second = timedelta(seconds=1)
    assert capture_age_problem(now + CLOCK_SKEW, now, week) is None
    assert capture_age_problem(now + CLOCK_SKEW + second, now, week) == "CAPTURE_INVALID"
    assert capture_age_problem(now, now, week) is None
    assert capture_age_problem(now - week, now, week) is None
    assert capture_age_problem(now - week - second, now, week) == "CONSENT_STALE"
