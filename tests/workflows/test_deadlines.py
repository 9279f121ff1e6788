"""Reminders, escalations and clerks' working-day deadlines over the six-month timeline, and a
corrected retirement date that moves them all.

Dates are China time (UTC+8). Reminders go out at 09:00 on the day; a deadline "by D" passes at
midnight after D, when it is escalated to the responsible department's supervisors. The policy
reminds 30/14/3 days before the declaration, 14/3 before the contribution check and 10/3 before
the end of the initiation window.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from contracts.case import Declaration, Department, FlexibleChoice
from contracts.departments import Notification
from contracts.workflow import (
    CaseSnapshot,
    CorrectRetirement,
    Declare,
    Initiate,
    Outcome,
    RefusalType,
    Resubmit,
    Stage,
    TaskKind,
    TaskStatus,
)
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    REGION,
    Harness,
    clerk,
    open_task,
    person,
    request_id,
    snapshot,
    stage_is,
    wait_for,
)
from tests.workflows.helpers import NORMAL, Case, approve, china, decide, refused, to_the_minute
from workflows.case import RetirementCase

HR_SUPERVISORS = f"hr@{REGION}"


def sent(harness: Harness, kind: str) -> list[Notification]:
    return [n for n in harness.fakes.notifications if n.kind == kind]


def reminder_times(snap: CaseSnapshot) -> list[datetime]:
    """When each reminder went out, China time, to the minute."""
    return [to_the_minute(e.at) for e in snap.events if e.event.startswith("reminder sent")]


async def flexible_delay_to_2028_02(handle: Case) -> None:
    """The employer and the man born 1967-01 (statutory T 2027-08) agree to delay to 2028-02,
    confirmed in writing in 2026-11 (by 2027-07 is required)."""
    await handle.execute_update(
        RetirementCase.correct_retirement,
        CorrectRetirement(
            request_id=request_id(),
            actor=EMPLOYER_ACTOR,
            reason="delay agreed with the employer",
            declaration=Declaration(
                path=RetirementPath.FLEXIBLE_DELAY,
                contribution_years=Decimal(30),
                requested_month=YearMonth(2028, 2),
                flexible=FlexibleChoice(notice_month=YearMonth(2026, 11), employer_agreed=True),
            ),
        ),
    )


async def test_the_six_month_timeline_of_a_roster_case(harness: Harness) -> None:
    # Born 1967-01: T = 2027-08. Declaration due 2027-02-28, contribution check 2027-06-30,
    # initiation window 2027-07-01..2027-07-31. The case starts from the roster on 2026-11-28
    # with no declaration: the employer must declare.
    handle = await harness.start(person(date(1967, 1, 15)))
    declare = await open_task(handle, TaskKind.DECLARE)
    assert declare.due == date(2027, 2, 28)
    assert declare.organisation == EMPLOYER_ACTOR.organisation

    # Reminders at 30, 14 and 3 days before the due date, to the employer; none escalated yet.
    await harness.sleep_until(china(date(2027, 2, 28), 23))
    snap = await snapshot(handle)
    assert reminder_times(snap) == [
        china(date(2027, 1, 29), 9),
        china(date(2027, 2, 14), 9),
        china(date(2027, 2, 25), 9),
    ]
    assert snap.reminders_sent == 3
    reminders = sent(harness, "reminder")
    assert [(n.recipient_role, n.recipient) for n in reminders] == [
        ("organisation", EMPLOYER_ACTOR.organisation)
    ] * 3
    assert all(n.subject == "declaration due 2027-02-28" for n in reminders)
    assert snap.escalations == []
    assert snap.overdue == []

    # Midnight after 2027-02-28 passes: HR's supervisors are told, the case is overdue.
    await harness.sleep_until(china(date(2027, 3, 1), 0, 30))
    snap = await snapshot(handle)
    assert len(snap.escalations) == 1
    escalation = snap.escalations[0]
    assert escalation.department is Department.HR
    assert escalation.task_id is None
    assert to_the_minute(escalation.at) == china(date(2027, 3, 1))
    assert snap.overdue == ["declaration"]
    escalated = sent(harness, "escalation")
    assert [(n.recipient_role, n.recipient) for n in escalated] == [("supervisor", HR_SUPERVISORS)]

    # The employer declares late, on Monday 2027-03-01: accepted, and flagged for HR.
    await harness.sleep_until(china(date(2027, 3, 1), 10))
    status = await handle.execute_update(
        RetirementCase.declare,
        Declare(request_id=request_id(), actor=EMPLOYER_ACTOR, declaration=NORMAL),
    )
    assert status.stage is Stage.DECLARATION
    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.late_declaration
    assert snap.overdue == []
    assert any(e.event.startswith("late declaration: due 2027-02-28") for e in snap.events)

    # Pre-review has 10 working days. 2027's holidays are not published: counted as weekdays
    # from Monday 2027-03-01, the 10th is Monday 2027-03-15 (an estimate).
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    assert (review.due, review.due_estimated) == (date(2027, 3, 15), True)
    await harness.sleep_until(china(date(2027, 3, 20)))
    snap = await snapshot(handle)
    assert [e.task_id for e in snap.escalations] == [None, review.id]
    assert next(t for t in snap.tasks if t.id == review.id).escalated

    # The clerks catch up in April; no contribution-check reminder is due yet (June).
    await harness.sleep_until(china(date(2027, 4, 6), 10))
    await decide(handle, review)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)

    # Past June the check is done, so its reminders (06-16, 06-27) never go out. The window
    # opens at 08:00 on 2027-07-01 and the employer is told; then the 10- and 3-day reminders
    # before 2027-07-31 (07-21 and 07-28).
    await harness.sleep_until(china(date(2027, 7, 29), 12))
    snap = await snapshot(handle)
    opened = sent(harness, "window-opens")
    assert [(n.recipient_role, n.recipient) for n in opened] == [
        ("organisation", EMPLOYER_ACTOR.organisation)
    ]
    assert opened[0].subject == "The joint application can be initiated until 2027-07-31"
    assert reminder_times(snap)[3:] == [china(date(2027, 7, 21), 9), china(date(2027, 7, 28), 9)]
    assert snap.reminders_sent == 5
    assert snap.overdue == []

    # Nobody initiates by 2027-07-31: escalated to HR at midnight.
    await harness.sleep_until(china(date(2027, 8, 1), 1))
    snap = await snapshot(handle)
    assert snap.overdue == ["initiation"]
    assert len(snap.escalations) == 3
    assert snap.escalations[2].reason == "initiation was due 2027-07-31 and is not done"

    # Initiating late still works and clears the overdue flag; the case completes.
    await handle.execute_update(
        RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
    )
    snap = await snapshot(handle)
    assert snap.overdue == []
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await approve(handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    await approve(handle, TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL)
    assert (await handle.result()).stage is Stage.COMPLETED

    # Over the whole story: 3 + 2 reminders, 3 escalations, each notified exactly once.
    snap = await snapshot(handle)
    assert snap.reminders_sent == 5
    assert len(sent(harness, "reminder")) == 5
    assert len(snap.escalations) == 3
    assert len(sent(harness, "escalation")) == 3


async def test_a_case_declared_after_its_due_date_is_flagged_late(harness: Harness) -> None:
    # Born 1966-09: T = 2027-03, so the declaration was due on 2026-09-30, before the case
    # starts (2026-11-28). The contribution check (2027-01-31) is still ahead.
    handle = await harness.start(person(date(1966, 9, 10)), NORMAL)
    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.deadlines.retirement_month == YearMonth(2027, 3)
    assert snap.deadlines.declaration_due == date(2026, 9, 30)
    assert snap.late_declaration
    assert any(e.event.startswith("late declaration: due 2026-09-30") for e in snap.events)
    # Declared (late) is not overdue; nothing escalated, no stale reminder.
    assert snap.overdue == []
    assert snap.escalations == []
    assert snap.reminders_sent == 0


async def test_a_roster_case_already_past_its_declaration_due_is_escalated_at_once(
    harness: Harness,
) -> None:
    # The same T = 2027-03 (due 2026-09-30), from the roster: the 30/14/3-day reminders fell
    # due before the case existed and are not sent; the escalation is.
    handle = await harness.start(person(date(1966, 9, 10)))
    snap = await wait_for(
        handle, lambda s: len(s.escalations) == 1 and len(sent(harness, "escalation")) == 1
    )
    assert snap.overdue == ["declaration"]
    assert snap.reminders_sent == 0
    assert sent(harness, "reminder") == []
    assert len(sent(harness, "escalation")) == 1

    await handle.execute_update(
        RetirementCase.declare,
        Declare(request_id=request_id(), actor=EMPLOYER_ACTOR, declaration=NORMAL),
    )
    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.late_declaration
    assert snap.overdue == []


async def test_a_clerk_task_past_its_working_day_deadline_is_escalated_once(
    harness: Harness,
) -> None:
    # Declared on Tuesday 2026-12-01 (man born 1967-01, T 2027-08). Pre-review has 10 working
    # days on the official 2026 calendar (no holiday in December): Dec 2, 3, 4, 7, 8, 9, 10, 11,
    # 14, 15 -> due 2026-12-15, a real (not estimated) date; escalated at midnight after it.
    await harness.sleep_until(china(date(2026, 12, 1), 9))
    handle = await harness.start(person(date(1967, 1, 15)), NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    assert (review.due, review.due_estimated) == (date(2026, 12, 15), False)

    await harness.sleep_until(china(date(2026, 12, 15), 23, 59))
    snap = await snapshot(handle)
    assert snap.escalations == []

    await harness.sleep_until(china(date(2026, 12, 16), 1))
    snap = await snapshot(handle)
    task = next(t for t in snap.tasks if t.id == review.id)
    assert task.escalated
    assert task.status is TaskStatus.OPEN  # still the clerk's to decide
    [escalation] = snap.escalations
    assert escalation.task_id == review.id
    assert escalation.department is Department.HR
    assert escalation.reason == (
        f"pre-review {review.id} was due 2026-12-15 (working-day deadline)"
    )
    [notice] = sent(harness, "escalation")
    assert (notice.recipient_role, notice.recipient) == ("supervisor", HR_SUPERVISORS)

    # Six more weeks untouched: never escalated again.
    await harness.sleep_until(china(date(2027, 1, 31)))
    snap = await snapshot(handle)
    assert len(snap.escalations) == 1
    assert len(sent(harness, "escalation")) == 1

    await decide(handle, review)
    await stage_is(handle, Stage.CONTRIBUTION_CHECK)


async def test_an_hr_category_correction_moves_the_declaration_deadline(
    harness: Harness,
) -> None:
    # A woman born 1977-01 on the roster as a female worker: original age 50 -> 2027-01,
    # +13 months -> T = 2028-02; declaration due 2027-08-31 (reminders 08-01, 08-17, 08-28).
    woman = person(date(1977, 1, 10), Category.FEMALE_WORKER, name="王芳")
    handle = await harness.start(woman)
    snap = await wait_for(handle, lambda s: bool(s.open_tasks()))
    assert snap.deadlines.retirement_month == YearMonth(2028, 2)
    assert snap.deadlines.declaration_due == date(2027, 8, 31)

    # Only HR corrects personal data.
    correction = CorrectRetirement(
        request_id=request_id(),
        actor=EMPLOYER_ACTOR,
        reason="the archive says cadre",
        category=Category.FEMALE_CADRE,
    )
    await refused(
        handle.execute_update(RetirementCase.correct_retirement, correction),
        RefusalType.FORBIDDEN,
    )

    # Her archive shows a cadre post: original age 55 -> 2032-01, +22 months -> T = 2033-11,
    # declaration due 2033-05-31.
    status = await handle.execute_update(
        RetirementCase.correct_retirement,
        correction.model_copy(update={"actor": clerk(Department.HR)}),
    )
    assert status.retirement_month == YearMonth(2033, 11)
    snap = await snapshot(handle)
    assert snap.category is Category.FEMALE_CADRE
    assert snap.deadlines.retirement_month == YearMonth(2033, 11)
    assert snap.deadlines.declaration_due == date(2033, 5, 31)
    assert snap.deadlines.initiation_opens == date(2033, 10, 1)

    # Past the old reminders and the old due date: nothing fires for them.
    await harness.sleep_until(china(date(2027, 9, 2)))
    snap = await snapshot(handle)
    assert snap.reminders_sent == 0
    assert snap.escalations == []
    assert snap.overdue == []
    assert sent(harness, "reminder") == []
    assert sent(harness, "escalation") == []


async def test_a_flexible_delay_moves_the_initiation_window(harness: Harness) -> None:
    # Born 1967-01, statutory T = 2027-08 (window 2027-07-01..07-31), through the check early.
    handle = await harness.start(person(date(1967, 1, 15)), NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)

    # Delay to 2028-02 = T: window 2028-01-01..01-31 (reminders 01-21, 01-28), pension 2028-03.
    await flexible_delay_to_2028_02(handle)
    snap = await snapshot(handle)
    d = snap.deadlines
    assert d.retirement_month == YearMonth(2028, 2)
    assert d.statutory_month == YearMonth(2027, 8)
    assert (d.declaration_due, d.contribution_check_due) == (date(2027, 8, 31), date(2027, 12, 31))
    assert (d.initiation_opens, d.initiation_due) == (date(2028, 1, 1), date(2028, 1, 31))
    assert d.first_pension_month == YearMonth(2028, 3)

    # The old window (2027-07) and its due date pass in silence.
    await harness.sleep_until(china(date(2027, 8, 2)))
    snap = await snapshot(handle)
    assert snap.reminders_sent == 0
    assert snap.escalations == []
    assert snap.overdue == []
    assert sent(harness, "window-opens") == []
    refusal = await refused(
        handle.execute_update(
            RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
        ),
        RefusalType.NOT_YET,
    )
    assert "2028-01-01" in refusal.message

    # The new window opens; the employer initiates on the first day.
    await harness.sleep_until(china(date(2028, 1, 1), 10))
    [opened] = sent(harness, "window-opens")
    assert opened.subject == "The joint application can be initiated until 2028-01-31"
    await handle.execute_update(
        RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
    )
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await approve(handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    await approve(handle, TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL)
    assert (await handle.result()).stage is Stage.COMPLETED
    snap = await snapshot(handle)
    assert snap.pension is not None
    assert snap.pension.first_month == YearMonth(2028, 3)
    assert snap.reminders_sent == 0  # initiated before either reminder was due


async def test_a_correction_moves_the_due_date_of_the_open_party_task(harness: Harness) -> None:
    # As above: awaiting initiation with the task due 2027-07-31, then delayed to 2028-02.
    handle = await harness.start(person(date(1967, 1, 15)), NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    task = await open_task(handle, TaskKind.INITIATE)
    assert task.due == date(2027, 7, 31)

    await flexible_delay_to_2028_02(handle)
    snap = await snapshot(handle)
    assert snap.deadlines.initiation_due == date(2028, 1, 31)
    # The progress page and the NextDeadline search attribute read the open task's due date.
    [still_open] = snap.open_tasks()
    assert still_open.due == date(2028, 1, 31)


async def test_a_resubmission_that_moves_t_sends_no_stale_reminder(harness: Harness) -> None:
    # Declared 2026-11-28 for T = 2027-08 (contribution check due 2027-06-30).
    handle = await harness.start(person(date(1967, 1, 15)), NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    # On 2027-01-20 pre-review returns it; the employer resubmits flexible early retirement
    # in 2027-03 (notice given 2026-12): the check is now due 2027-01-31, its 14-day reminder
    # was due 2027-01-17, three days ago, and the 3-day one is on 2027-01-28.
    await harness.sleep_until(china(date(2027, 1, 20), 10))
    await decide(handle, review, Outcome.RETURN, reason="he wants to go early")
    await open_task(handle, TaskKind.CORRECT)
    await handle.execute_update(
        RetirementCase.resubmit,
        Resubmit(
            request_id=request_id(),
            actor=EMPLOYER_ACTOR,
            declaration=Declaration(
                path=RetirementPath.FLEXIBLE_EARLY,
                contribution_years=Decimal(30),
                requested_month=YearMonth(2027, 3),
                flexible=FlexibleChoice(notice_month=YearMonth(2026, 12)),
            ),
        ),
    )
    snap = await wait_for(
        handle, lambda s: [t.kind for t in s.open_tasks()] == [TaskKind.PRE_REVIEW]
    )
    assert snap.deadlines.contribution_check_due == date(2027, 1, 31)
    await harness.env.sleep(timedelta(hours=1))
    snap = await snapshot(handle)
    assert snap.reminders_sent == 0  # the 2027-01-17 reminder is not sent on 2027-01-20


async def test_a_category_correction_must_match_the_gender(harness: Harness) -> None:
    # A man born 1967-01 on the roster (T = 2027-08).
    handle = await harness.start(person(date(1967, 1, 15)))
    await open_task(handle, TaskKind.DECLARE)
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(
            RetirementCase.correct_retirement,
            CorrectRetirement(
                request_id=request_id(),
                actor=clerk(Department.HR),
                reason="typo in the roster",
                category=Category.FEMALE_WORKER,
            ),
        )
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type in (RefusalType.INVALID.value, RefusalType.RULES.value)
