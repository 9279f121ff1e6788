"""People and dates for the workflow stories, chosen relative to the test server's clock.

The server's clock starts at the real time of the run (and can only move forward), so no story
names a birth date or a deadline on the calendar. Each takes "now" from the server at its start
and picks a person by how many months ahead their retirement month T lies: with T nine months
ahead, the declaration due by the end of T-6 is about three months away, and every reminder and
window is still to come; with T four months ahead, the declaration was due before the case
existed while the initiation window (T-1) is still ahead.

The expected dates come from ``domain.timeline`` (as the workflow's do), but each is checked here
against what the notice says, counted by hand from T (吉人社联〔2024〕56号 §三):

- the declaration is due by the last day of T-6, the contribution check by the last day of T-2;
- the initiation window is month T-1, from its first day to its last;
- the first pension is paid for T+1;
- reminders go out 30, 14 and 3 days before the declaration is due, 14 and 3 days before the
  check, and 10 and 3 days before the window closes.

So a mistake in the timeline code still fails the stories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from contracts.declarations import Declaration
from contracts.people import Person
from domain.months import YearMonth
from domain.plan import RetirementPlan, plan_retirement
from domain.policy import Category, ClerkTask, Policy
from domain.statutory import (
    StatutoryRetirement,
    first_birth_month_retiring_from,
    statutory_retirement,
)
from domain.timeline import (
    CaseTimeline,
    ClerkDeadline,
    Milestone,
    case_timeline,
    clerk_deadline,
    working_calendar,
)
from domain.workdays import CalendarNotCovered
from tests.workflows.conftest import Harness, person

LEAD = 9
"""Months from now to T for an ordinary case: the declaration (T-6) is due in about 3 months."""

LATE_LEAD = 4
"""Months from now to T for a case late from the start: T-6 has passed, T-2 and T-1 are ahead."""

BIRTH_DAY = 15

# Months before T, from the notice: declaration, contribution check, initiation window.
DECLARATION_BEFORE = 6
CHECK_BEFORE = 2
WINDOW_BEFORE = 1
# Days before each due date at which reminders go out (the policy's operating defaults).
REMINDER_DAYS = {
    Milestone.DECLARATION: (30, 14, 3),
    Milestone.CONTRIBUTION_CHECK: (14, 3),
    Milestone.INITIATION: (10, 3),
}
# Original (pre-reform) retirement ages, in years.
ORIGINAL_AGE = {Category.MALE: 60, Category.FEMALE_CADRE: 55, Category.FEMALE_WORKER: 50}


@dataclass(frozen=True, slots=True)
class Retiree:
    """A person, and their statutory retirement month T with the timeline that follows from it
    (the normal path's; an early or flexible declaration moves T, see :func:`timeline_for`)."""

    person: Person
    birth: date
    statutory: StatutoryRetirement
    timeline: CaseTimeline

    @property
    def birth_month(self) -> YearMonth:
        return YearMonth.of(self.birth)

    @property
    def t(self) -> YearMonth:
        """The statutory retirement month."""
        return self.statutory.retirement_month

    @property
    def category(self) -> Category:
        return self.person.category


def timeline_for(t: YearMonth, policy: Policy) -> CaseTimeline:
    """The timeline of a case retiring in ``t``, checked against the notice counted by hand."""
    timeline = case_timeline(t, policy)
    assert timeline.retirement_month == t
    assert timeline.declaration_due == t.minus(DECLARATION_BEFORE).last_day()
    assert timeline.contribution_check_due == t.minus(CHECK_BEFORE).last_day()
    assert timeline.initiation_opens == t.minus(WINDOW_BEFORE).first_day()
    assert timeline.initiation_due == t.minus(WINDOW_BEFORE).last_day()
    assert timeline.retirement_effective == t.first_day()
    assert timeline.first_pension_month == t.plus(1)
    expected = sorted(
        (timeline.due(milestone) - timedelta(days=days), milestone, days)
        for milestone, offsets in REMINDER_DAYS.items()
        for days in offsets
    )
    assert [(r.on, r.milestone, r.days_before) for r in timeline.reminders] == expected
    assert all(r.due == timeline.due(r.milestone) for r in timeline.reminders)
    return timeline


def born_in(
    birth_month: YearMonth,
    policy: Policy,
    category: Category = Category.MALE,
    *,
    serial: int = 1,
    name: str = "张三",
    agency: bool = False,
) -> Retiree:
    """A person born on the 15th of ``birth_month`` (a valid ID number; ``serial`` makes it
    distinct from another person's born the same day)."""
    birth = date(birth_month.year, birth_month.month, BIRTH_DAY)
    who = person(birth, category, name=name, serial=serial, agency=agency)
    assert who.birth_month == birth_month
    statutory = statutory_retirement(birth_month, category, policy)
    # Everyone in these stories reaches the original age after the reform began (2025-01), so
    # their statutory month is the original one delayed by at least a month.
    assert statutory.original_retirement_month == birth_month.plus(ORIGINAL_AGE[category] * 12)
    assert statutory.retirement_month > statutory.original_retirement_month
    return Retiree(who, birth, statutory, timeline_for(statutory.retirement_month, policy))


def retiring(
    now: YearMonth,
    months_ahead: int,
    policy: Policy,
    category: Category = Category.MALE,
    *,
    serial: int = 1,
    name: str = "张三",
    agency: bool = False,
) -> Retiree:
    """The first person of ``category`` reaching statutory retirement age ``months_ahead`` months
    after ``now`` or later. The reform skips some months (two people born a month apart may
    retire two months apart), so T is that month or the one after: the stories count from T."""
    wanted = now.plus(months_ahead)
    birth_month = first_birth_month_retiring_from(wanted, category, policy)
    retiree = born_in(birth_month, policy, category, serial=serial, name=name, agency=agency)
    assert wanted <= retiree.t <= wanted.plus(1), (wanted, retiree.t)
    # Born a month earlier, T would come before the wanted month: this is the first such person.
    assert statutory_retirement(birth_month.minus(1), category, policy).retirement_month < wanted
    return retiree


async def retiree_from_now(
    harness: Harness,
    months_ahead: int = LEAD,
    category: Category = Category.MALE,
    *,
    serial: int = 1,
    name: str = "张三",
    agency: bool = False,
) -> Retiree:
    """:func:`retiring` counted from this month on the test server's clock."""
    now = await harness.this_month()
    return retiring(
        now, months_ahead, harness.policy, category, serial=serial, name=name, agency=agency
    )


def accepted_plan(retiree: Retiree, declaration: Declaration, policy: Policy) -> RetirementPlan:
    """The rules accept ``declaration`` for ``retiree``: a story that picked its months wrongly
    fails here, naming the rule, rather than as a refused update far away."""
    flexible = declaration.flexible
    plan = plan_retirement(
        birth_month=declaration.archive_birth_month or retiree.birth_month,
        category=retiree.category,
        path=declaration.path,
        policy=policy,
        contribution_years=declaration.contribution_years,
        requested_month=declaration.requested_month,
        special_jobs=[job.period() for job in declaration.special_jobs],
        appraisal=declaration.appraisal,
        notice_month=flexible.notice_month if flexible else None,
        employer_agreed=flexible.employer_agreed if flexible else False,
    )
    assert plan.accepted, [f"{r.rule}: {r.reason}" for r in plan.refusals]
    if declaration.requested_month is not None:
        assert plan.retirement_month == declaration.requested_month
    return plan


def weekdays_after(start: date, end: date) -> int:
    """Mondays to Fridays after ``start`` up to and including ``end``, counted one by one."""
    return sum(
        1 for n in range(1, (end - start).days + 1) if (start + timedelta(days=n)).weekday() < 5
    )


def calendar_covers(year: int, policy: Policy) -> bool:
    """Whether the official holiday calendar (the package's, or the policy's extra years) has
    ``year``."""
    try:
        working_calendar(policy).is_workday(date(year, 1, 1))
    except CalendarNotCovered:
        return False
    return True


def first_working_day_after(day: date, policy: Policy) -> date:
    """The next working day: on the official calendar where it covers the year, else the next
    Monday to Friday (the workflow's estimate for an unpublished year)."""
    calendar = working_calendar(policy)
    while True:
        day += timedelta(days=1)
        if calendar_covers(day.year, policy):
            if calendar.is_workday(day):
                return day
        elif day.weekday() < 5:
            return day


def expected_clerk_deadline(task: ClerkTask, opened: date, policy: Policy) -> ClerkDeadline:
    """The working-day deadline of a clerk task opened on ``opened``, checked both ways the
    workflow may count it: on the official calendar when it covers every year involved (a real
    date, on a working day, exactly N working days on), otherwise as an estimate of N Mondays to
    Fridays (the documented behaviour before the State Council publishes a year's holidays)."""
    days = policy.clerk_sla.working_days[task]
    deadline = clerk_deadline(task, opened, policy, working_calendar(policy))
    years = range(opened.year, deadline.due.year + 1)
    if deadline.estimated:
        assert not all(calendar_covers(year, policy) for year in years)
        assert deadline.due.weekday() < 5
        assert weekdays_after(opened, deadline.due) == days
    else:
        assert all(calendar_covers(year, policy) for year in years)
        calendar = working_calendar(policy)
        assert calendar.is_workday(deadline.due)
        assert calendar.working_days_between(opened, deadline.due) == days
    return deadline
