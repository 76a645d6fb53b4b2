"""The service probe's states and back-off: 5 s then doubled up to 60 s while the service is
down, 30 s while it answers; « injoignable depuis » the first failed check of the outage."""

from __future__ import annotations

from datetime import datetime

from proclient.controllers.creation import Reachability, ServiceProbe
from proclient.core.clock import PARIS


def test_unknown_until_the_first_check_and_never_ready():
    probe = ServiceProbe()
    assert probe.state is Reachability.UNKNOWN
    assert "prêt" not in probe.label()
    assert probe.label() == "état inconnu"


def test_down_backs_off_from_5_to_60_seconds_and_keeps_the_outage_start():
    times = iter(
        [datetime(2026, 11, 28, 9, 5, tzinfo=PARIS), datetime(2026, 11, 28, 9, 6, tzinfo=PARIS)]
    )
    probe = ServiceProbe(now=lambda: next(times))
    delays = []
    for _check in range(6):
        probe.record(False)
        delays.append(probe.next_delay())
    assert delays == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    assert probe.state is Reachability.UNREACHABLE
    assert probe.label() == "injoignable depuis 09:05"


def test_back_up_checks_every_30_seconds_and_a_new_outage_starts_again_at_5():
    times = iter(
        [datetime(2026, 11, 28, 9, 5, tzinfo=PARIS), datetime(2026, 11, 28, 10, 40, tzinfo=PARIS)]
    )
    probe = ServiceProbe(now=lambda: next(times))
    probe.record(False)
    probe.record(False)
    probe.record(True)
    assert probe.state is Reachability.REACHABLE
    assert probe.next_delay() == 30.0
    assert probe.label() == "joignable"
    probe.record(False)
    assert probe.next_delay() == 5.0
    assert probe.label() == "injoignable depuis 10:40"


def test_the_oldest_recorded_creation_is_said_by_its_age():
    from datetime import UTC, datetime, timedelta

    from proclient.routes.outbox import age_in_words

    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert age_in_words(now - timedelta(seconds=30), now) == "à l'instant"
    assert age_in_words(now - timedelta(minutes=42), now) == "il y a 42 min"
    assert age_in_words(now - timedelta(hours=5, minutes=59), now) == "il y a 5 h"
    assert age_in_words(now - timedelta(days=3, hours=1), now) == "il y a 3 j"
