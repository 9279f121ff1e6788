"""A case's timeline, counted back from the retirement month T (吉人社联〔2024〕56号 §三).

Deadlines are expressed in months by the notice ("6 months before reaching retirement age"), so
a stage due "by T-6" is due through the last day of month T-6, and a window that opens "at T-1"
opens on its first day. Dates are local dates in China (UTC+8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, timezone
from enum import StrEnum

from domain.months import YearMonth
from domain.policy import ClerkTask, Policy
from domain.workdays import Deadline, WorkingCalendar


class Milestone(StrEnum):
    DECLARATION = "declaration"
    CONTRIBUTION_CHECK = "contribution-check"
    INITIATION = "initiation"


@dataclass(frozen=True, slots=True)
class Reminder:
    milestone: Milestone
    on: date
    days_before: int
    due: date


@dataclass(frozen=True, slots=True)
class CaseTimeline:
    retirement_month: YearMonth
    declaration_due: date
    contribution_check_due: date
    initiation_opens: date
    initiation_due: date
    retirement_effective: date
    first_pension_month: YearMonth
    reminders: tuple[Reminder, ...]

    def due(self, milestone: Milestone) -> date:
        return {
            Milestone.DECLARATION: self.declaration_due,
            Milestone.CONTRIBUTION_CHECK: self.contribution_check_due,
            Milestone.INITIATION: self.initiation_due,
        }[milestone]


def case_timeline(retirement_month: YearMonth, policy: Policy) -> CaseTimeline:
    """Every deadline and reminder date of a case whose retirement month is ``retirement_month``."""
    t = policy.timeline
    initiation_month = retirement_month.minus(t.initiation_months_before)
    dues = {
        Milestone.DECLARATION: retirement_month.minus(t.declaration_months_before).last_day(),
        Milestone.CONTRIBUTION_CHECK: retirement_month.minus(
            t.contribution_check_months_before
        ).last_day(),
        Milestone.INITIATION: initiation_month.last_day(),
    }
    offsets = {
        Milestone.DECLARATION: policy.reminders.declaration,
        Milestone.CONTRIBUTION_CHECK: policy.reminders.contribution_check,
        Milestone.INITIATION: policy.reminders.initiation,
    }
    reminders = sorted(
        (
            Reminder(milestone, dues[milestone] - timedelta(days=days), days, dues[milestone])
            for milestone in Milestone
            for days in set(offsets[milestone])
        ),
        key=lambda r: (r.on, r.milestone),
    )
    return CaseTimeline(
        retirement_month=retirement_month,
        declaration_due=dues[Milestone.DECLARATION],
        contribution_check_due=dues[Milestone.CONTRIBUTION_CHECK],
        initiation_opens=initiation_month.first_day(),
        initiation_due=dues[Milestone.INITIATION],
        retirement_effective=retirement_month.first_day(),
        first_pension_month=retirement_month.plus(1),
        reminders=tuple(reminders),
    )


# The name the workflow and its tests import; the deadline itself is the calendar's.
ClerkDeadline = Deadline


def clerk_deadline(
    task: ClerkTask, opened: date, policy: Policy, calendar: WorkingCalendar
) -> Deadline:
    """The service-level deadline of a clerk task opened on ``opened``, in working days.

    The one place a clerk's deadline is computed, for the workflow, the CLI and the API alike: a
    task must get a deadline even before the State Council has published next year's holidays,
    so a count reaching such a year is estimated and says so (:meth:`WorkingCalendar.deadline`).
    """
    return calendar.deadline(opened, policy.clerk_sla.working_days[task])


def working_calendar(policy: Policy) -> WorkingCalendar:
    """The official calendar with the policy's added years."""
    return WorkingCalendar(policy.calendar.extra_years)


CHINA_TZ = timezone(timedelta(hours=8), "CST")
"""China Standard Time: deadlines are local dates here (no daylight saving, so a fixed offset)."""
