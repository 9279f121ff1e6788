"""Working days on the official Chinese holiday calendar, for clerks' service-level deadlines.

The State Council publishes each year's holidays and swapped working weekends late in the year
before; the ``chinesecalendar`` package carries the published years, and the policy file can add
a year the package does not cover yet. "Is this day a working day?" has no answer outside both
(:class:`CalendarNotCovered`). A deadline still needs one, since a case must not stop for want
of next year's holidays: :meth:`WorkingCalendar.deadline` then counts Monday to Friday and says
so (:attr:`Deadline.estimated`), and the workflow, the CLI and the API all take that one answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline ``n`` working days on, and whether it is only an estimate.

    ``uncovered_year`` is the first year the count reached whose official holiday calendar is
    not known; then ``due`` counts Monday to Friday without holidays, so it may fall on a day
    the State Council later makes a holiday, and every reader must be told (``estimate_note``).
    """

    due: date
    uncovered_year: int | None = None

    @property
    def estimated(self) -> bool:
        return self.uncovered_year is not None

    @property
    def estimate_note(self) -> str | None:
        """The one sentence every view of an estimated deadline shows; ``None`` when exact."""
        return None if self.uncovered_year is None else estimate_note(self.uncovered_year)


def estimate_note(year: int) -> str:
    """What to show beside a deadline estimated for want of ``year``'s official calendar. Public
    so a view holding only a stored task (its due date and ``due_estimated``) says the same as
    the CLI and the rules API; for such a task ``year`` is its due date's year."""
    return (
        f"estimated: the official holiday calendar for {year} is not published yet "
        "(Monday to Friday counted, no holidays)"
    )


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

    def deadline(self, start: date, days: int) -> Deadline:
        """The ``days``-th working day after ``start``: exact on the official calendar, or, when
        the count reaches a year without one, an estimate of ``days`` Mondays to Fridays.

        The estimate counts weekdays from ``start`` for the whole span, even the part in a known
        year: that is what the workflow has always stored for such a task (changing it would
        move deadlines of running cases on replay, docs/versioning.md rule 5), and the two
        differ only if a known year's holiday or swapped weekend falls in those few days.
        """
        try:
            return Deadline(self.add_working_days(start, days))
        except CalendarNotCovered as uncovered:
            return Deadline(add_weekdays(start, days), uncovered_year=uncovered.year)

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
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    remaining = days
    while remaining:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return day
