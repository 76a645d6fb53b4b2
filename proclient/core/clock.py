"""Times as the professional reads them: Paris wall-clock time, everywhere.

The workstation's own clock zone is not the trade's: the accusé says « heure de Paris », so
every time on screen does too (the service's state since, a creation recorded at), whatever
the machine's zone (a laptop left in UTC, a server)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris_time(at: datetime) -> datetime:
    """``at`` in Europe/Paris. A naive datetime is taken as UTC (the service's clock)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(PARIS)


def now() -> datetime:
    """This moment, aware (UTC): for what is shown later with :func:`paris_time`."""
    return datetime.now(UTC)
