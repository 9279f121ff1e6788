from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.months import YearMonth
from domain.policy import ClerkTask, ExtraCalendarYear, Policy
from domain.timeline import Milestone, case_timeline, clerk_due, working_calendar
from domain.workdays import CalendarNotCovered, WorkingCalendar
from policies import load_policy

_POLICY = load_policy()  # immutable; shared because hypothesis tests take no fixtures


def test_timeline_of_a_retirement_in_august_2026(policy: Policy) -> None:
    tl = case_timeline(YearMonth(2026, 8), policy)
    assert tl.declaration_due == date(2026, 2, 28)  # through the last day of T-6
    assert tl.contribution_check_due == date(2026, 6, 30)  # T-2
    assert tl.initiation_opens == date(2026, 7, 1)  # T-1
    assert tl.initiation_due == date(2026, 7, 31)
    assert tl.retirement_effective == date(2026, 8, 1)
    assert tl.first_pension_month == YearMonth(2026, 9)
    declaration = [r for r in tl.reminders if r.milestone is Milestone.DECLARATION]
    assert [(r.on, r.days_before) for r in declaration] == [
        (date(2026, 1, 29), 30),
        (date(2026, 2, 14), 14),
        (date(2026, 2, 25), 3),
    ]


@given(st.builds(YearMonth, st.integers(1990, 2080), st.integers(1, 12)))
def test_deadlines_are_ordered(month: YearMonth) -> None:
    tl = case_timeline(month, _POLICY)
    assert (
        tl.declaration_due
        < tl.contribution_check_due
        < tl.initiation_opens
        <= tl.initiation_due
        < tl.retirement_effective
        < tl.first_pension_month.first_day()
    )
    assert YearMonth.of(tl.declaration_due) == month.minus(6)
    assert YearMonth.of(tl.contribution_check_due) == month.minus(2)
    assert YearMonth.of(tl.initiation_opens) == month.minus(1)
    assert list(tl.reminders) == sorted(tl.reminders, key=lambda r: (r.on, r.milestone))
    for reminder in tl.reminders:
        assert reminder.on == tl.due(reminder.milestone) - timedelta(days=reminder.days_before)


def test_clerk_deadline_skips_the_national_day_holiday(policy: Policy) -> None:
    calendar = working_calendar(policy)
    # Opened Mon 2026-09-28: working days 09-29, 09-30, then 10-01..10-07 are the holiday,
    # 10-08 (Thu), 10-09 (Fri), 10-10 (Sat, worked in exchange), 10-12 .. 10-16: the 10th.
    assert clerk_due(ClerkTask.PRE_REVIEW, date(2026, 9, 28), policy, calendar) == date(
        2026, 10, 16
    )
    # 3 working days from Tue 09-29: 09-30, 10-08, 10-09.
    assert clerk_due(ClerkTask.PROVIDENT_FUND, date(2026, 9, 29), policy, calendar) == date(
        2026, 10, 9
    )
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_a_year_the_calendar_does_not_cover_is_an_error() -> None:
    calendar = WorkingCalendar()
    with pytest.raises(CalendarNotCovered, match="2031") as caught:
        calendar.add_working_days(date(2031, 3, 2), 3)
    assert caught.value.year == 2031


def test_the_policy_can_add_a_published_year() -> None:
    extra = ExtraCalendarYear(holidays=[date(2031, 1, 1)], workdays=[date(2031, 1, 4)])
    calendar = WorkingCalendar({2031: extra})
    assert not calendar.is_workday(date(2031, 1, 1))  # Wednesday, a holiday
    assert calendar.is_workday(date(2031, 1, 4))  # Saturday, worked in exchange
    assert not calendar.is_workday(date(2031, 1, 5))  # plain Sunday
    assert calendar.add_working_days(date(2030, 12, 31), 2) == date(2031, 1, 3)
