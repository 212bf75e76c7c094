"""Reporting periods and deadlines of situation reports (pure functions, no database).

The schedule of an incident is `daily` or `weekly` (ISO weeks, Monday to Sunday), or `by_level`, the default:
daily at levels 2 and 3, weekly at levels 0 and 1. A period's report is due `deadline_hours` after the end of
its last day (UTC): by default 12 hours, so the report of Monday is due on Tuesday at 12:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Frequency = Literal["by_level", "daily", "weekly"]
FREQUENCIES: tuple[Frequency, ...] = ("by_level", "daily", "weekly")
DEFAULT_DEADLINE_HOURS = 12
MAX_DEADLINE_HOURS = 168
MAX_PERIOD_DAYS = 31  # a report covers at most a month
# A date that has begun nowhere on Earth is in the future: the earliest time zone is UTC+14.
_EARLIEST_ZONE = timedelta(hours=14)


def today_anywhere(now: datetime | None = None) -> date:
    """The latest date that has begun somewhere on Earth: a period ending after it is in the future."""
    moment = now or datetime.now(UTC)
    return (moment.astimezone(UTC) + _EARLIEST_ZONE).date()


def step(frequency: Frequency, level: int) -> Literal["daily", "weekly"]:
    """The period length in force: `by_level` is daily at levels 2-3 (a coordinated response), weekly below."""
    if frequency == "by_level":
        return "daily" if level >= 2 else "weekly"
    return frequency


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_ending(end: date, length: Literal["daily", "weekly"]) -> Period:
    """The reporting period that ends on `end` (a week: the seven days up to it)."""
    return Period(end - timedelta(days=6), end) if length == "weekly" else Period(end, end)


def period_containing(day: date, length: Literal["daily", "weekly"]) -> Period:
    """The scheduled period a day falls in (a week: its ISO week, Monday to Sunday)."""
    if length == "daily":
        return Period(day, day)
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6))


def deadline(period: Period, deadline_hours: int) -> datetime:
    """When the report of `period` is due: `deadline_hours` after the end of its last day, UTC."""
    return datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=UTC) + timedelta(hours=deadline_hours)


def last_due_period(now: datetime, length: Literal["daily", "weekly"], deadline_hours: int) -> Period:
    """The latest scheduled period whose deadline has passed at `now`."""
    period = period_containing(now.astimezone(UTC).date(), length)
    while deadline(period, deadline_hours) > now:
        period = period_containing(period.start - timedelta(days=1), length)
    return period


def next_deadline(now: datetime, length: Literal["daily", "weekly"], deadline_hours: int) -> datetime:
    """The first deadline after `now`."""
    period = last_due_period(now, length, deadline_hours)
    following = period_containing(period.end + timedelta(days=1), length)
    return deadline(following, deadline_hours)
