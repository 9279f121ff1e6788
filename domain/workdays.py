"""Working days on the official Chinese holiday calendar, for clerks' service-level deadlines.

The State Council publishes each year's holidays and swapped working weekends late in the year
before; the ``chinesecalendar`` package carries the published years, and the policy file can add
a year the package does not cover yet. A date outside both is an error, never a guess: a guessed
deadline would escalate a clerk wrongly over a holiday.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import chinese_calendar

from domain.policy import ExtraCalendarYear


class CalendarNotCovered(ValueError):
    """The official holiday calendar for ``year`` is not known to this service."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"the official holiday calendar for {year} is not available: add it under "
            f"[calendar.extra_years.{year}] in the policy file once published"
        )
        self.year = year


class WorkingCalendar:
    """Answers "is this a working day?" for every covered year, or raises CalendarNotCovered."""

    def __init__(self, extra_years: Mapping[int, ExtraCalendarYear] | None = None) -> None:
        self._extra = {
            year: (frozenset(extra.holidays), frozenset(extra.workdays))
            for year, extra in (extra_years or {}).items()
        }

    def is_workday(self, day: date) -> bool:
        if day.year in self._extra:
            holidays, workdays = self._extra[day.year]
            if day in workdays:
                return True
            return day not in holidays and day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise CalendarNotCovered(day.year) from None

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        remaining = days
        while remaining:
            day += timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


def add_weekdays(start: date, days: int) -> date:
    """The ``days``-th Monday-to-Friday after ``start``, ignoring holidays: only an estimate, for
    a year whose official calendar is not published yet."""
    day = start
    remaining = days
    while remaining:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return day
