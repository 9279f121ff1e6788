from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.months import YearMonth
from domain.policy import ClerkTask, ExtraCalendarYear, Policy
from domain.timeline import Milestone, case_timeline, clerk_deadline, working_calendar
from domain.workdays import CalendarNotCovered, Deadline, WorkingCalendar, estimate_note
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
    assert clerk_deadline(ClerkTask.PRE_REVIEW, date(2026, 9, 28), policy, calendar) == Deadline(
        date(2026, 10, 16)
    )
    # 3 working days from Tue 09-29: 09-30, 10-08, 10-09.
    fund = clerk_deadline(ClerkTask.PROVIDENT_FUND, date(2026, 9, 29), policy, calendar)
    assert (fund.due, fund.estimated, fund.estimate_note) == (date(2026, 10, 9), False, None)
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


# The bundled chinesecalendar knows 2004..2026; these tests are about a year it lacks, so check
# that first: a package upgrade that adds 2027 must move them to a later year, not pass quietly.
UNPUBLISHED = 2027


def test_the_packaged_calendar_lacks_the_unpublished_year() -> None:
    with pytest.raises(CalendarNotCovered):
        WorkingCalendar().is_workday(date(UNPUBLISHED, 3, 1))


def test_a_deadline_in_an_unpublished_year_is_estimated_and_says_so(policy: Policy) -> None:
    # Pre-review (10 working days) opened Mon 2027-03-01: Mondays to Fridays 03-02 … 03-05 (4),
    # 03-08 … 03-12 (9), 03-15 (10).
    deadline = clerk_deadline(
        ClerkTask.PRE_REVIEW, date(UNPUBLISHED, 3, 1), policy, working_calendar(policy)
    )
    assert deadline.due == date(UNPUBLISHED, 3, 15)
    assert deadline.estimated
    assert deadline.uncovered_year == UNPUBLISHED
    assert deadline.estimate_note is not None
    assert deadline.estimate_note.startswith(
        f"estimated: the official holiday calendar for {UNPUBLISHED} is not published yet"
    )
    # Views that hold only a stored task (due date, due_estimated) render the same sentence.
    assert estimate_note(deadline.due.year) == deadline.estimate_note


def test_a_count_across_new_year_into_an_unpublished_year_is_estimated(policy: Policy) -> None:
    # Opened Mon 2026-12-28 (2026 is published): 12-29, 12-30, 12-31 are working days, then the
    # count enters 2027, unknown: weekdays 01-01 (Fri, in fact New Year's Day), 01-04 … 01-08,
    # 01-11 … the 10th weekday after 12-28 is Mon 2027-01-11.
    deadline = clerk_deadline(
        ClerkTask.PRE_REVIEW, date(2026, 12, 28), policy, working_calendar(policy)
    )
    assert (deadline.due, deadline.uncovered_year) == (date(UNPUBLISHED, 1, 11), UNPUBLISHED)
    # 3 working days from the same day stay inside 2026: exact.
    short = clerk_deadline(
        ClerkTask.PROVIDENT_FUND, date(2026, 12, 28), policy, working_calendar(policy)
    )
    assert (short.due, short.estimated) == (date(2026, 12, 31), False)


def test_a_year_added_to_the_policy_is_exact_not_estimated(policy: Policy) -> None:
    # Once the State Council publishes 2027 and the policy adds it, the estimate gives way:
    # with 03-02 … 03-04 made holidays, the 10th working day after 03-01 moves to 03-18.
    extra = ExtraCalendarYear(holidays=[date(UNPUBLISHED, 3, d) for d in (2, 3, 4)])
    calendar = WorkingCalendar({UNPUBLISHED: extra})
    deadline = clerk_deadline(ClerkTask.PRE_REVIEW, date(UNPUBLISHED, 3, 1), policy, calendar)
    assert deadline == Deadline(date(UNPUBLISHED, 3, 18))
    assert not deadline.estimated


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
