"""Reminders, escalations and clerks' working-day deadlines over the six-month timeline, and a
corrected retirement date that moves them all.

Dates are China time (UTC+8). Reminders go out at 09:00 on the day; a deadline "by D" passes at
midnight after D, when it is escalated to the responsible department's supervisors. The policy
reminds 30/14/3 days before the declaration, 14/3 before the contribution check and 10/3 before
the end of the initiation window.

Every person is chosen by how far their retirement month T lies from the test server's clock at
the start (see ``tests/workflows/people.py``), and every date below is counted from T: the
declaration is due by the last day of T-6, the contribution check by the last day of T-2, the
initiation window is the month T-1.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from contracts.declarations import Declaration, FlexibleChoice
from contracts.departments import Notification
from contracts.people import Department
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
from domain.policy import Category, ClerkTask
from domain.statutory import statutory_retirement
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    REGION,
    Harness,
    clerk,
    open_task,
    request_id,
    snapshot,
    stage_is,
    wait_for,
)
from tests.workflows.helpers import NORMAL, Case, approve, china, decide, refused, to_the_minute
from tests.workflows.people import (
    LATE_LEAD,
    Retiree,
    accepted_plan,
    expected_clerk_deadline,
    first_working_day_after,
    retiree_from_now,
)
from workflows.case import RetirementCase

HR_SUPERVISORS = f"hr@{REGION}"
DAY = timedelta(days=1)


def sent(harness: Harness, kind: str) -> list[Notification]:
    return [n for n in harness.fakes.notifications if n.kind == kind]


def reminder_times(snap: CaseSnapshot) -> list[datetime]:
    """When each reminder went out, China time, to the minute."""
    return [to_the_minute(e.at) for e in snap.events if e.event.startswith("reminder sent")]


async def flexible_delay(harness: Harness, handle: Case, man: Retiree, to: YearMonth) -> None:
    """The employer and the man agree to delay his retirement from his statutory month to
    ``to``, confirmed in writing this month (by the month before the statutory one is
    required); HR is told through a correction."""
    declaration = Declaration(
        path=RetirementPath.FLEXIBLE_DELAY,
        contribution_years=Decimal(30),
        requested_month=to,
        flexible=FlexibleChoice(notice_month=await harness.this_month(), employer_agreed=True),
    )
    accepted_plan(man, declaration, harness.policy)
    await handle.execute_update(
        RetirementCase.correct_retirement,
        CorrectRetirement(
            request_id=request_id(),
            actor=EMPLOYER_ACTOR,
            reason="delay agreed with the employer",
            declaration=declaration,
        ),
    )


async def test_the_six_month_timeline_of_a_roster_case(harness: Harness) -> None:
    # T about nine months from now: the declaration is due by the last day of T-6 (about three
    # months ahead), the contribution check by the last day of T-2, the initiation window is
    # T-1. The case starts from the roster with no declaration: the employer must declare.
    man = await retiree_from_now(harness)
    t = man.t
    declaration_due = t.minus(6).last_day()
    handle = await harness.start(man.person)
    declare = await open_task(handle, TaskKind.DECLARE)
    assert declare.due == declaration_due
    assert declare.organisation == EMPLOYER_ACTOR.organisation

    # Reminders at 30, 14 and 3 days before the due date, to the employer; none escalated yet.
    await harness.sleep_until(china(declaration_due, 23))
    snap = await snapshot(handle)
    assert reminder_times(snap) == [
        china(declaration_due - 30 * DAY, 9),
        china(declaration_due - 14 * DAY, 9),
        china(declaration_due - 3 * DAY, 9),
    ]
    assert snap.reminders_sent == 3
    reminders = sent(harness, "reminder")
    assert [(n.recipient_role, n.recipient) for n in reminders] == [
        ("organisation", EMPLOYER_ACTOR.organisation)
    ] * 3
    assert all(n.subject == f"declaration due {declaration_due}" for n in reminders)
    assert snap.escalations == []
    assert snap.overdue == []

    # Midnight after the due date (the first day of T-5 begins): HR's supervisors are told,
    # the case is overdue.
    day_after = declaration_due + DAY
    assert day_after == t.minus(5).first_day()
    await harness.sleep_until(china(day_after, 0, 30))
    snap = await snapshot(handle)
    assert len(snap.escalations) == 1
    escalation = snap.escalations[0]
    assert escalation.department is Department.HR
    assert escalation.task_id is None
    assert to_the_minute(escalation.at) == china(day_after)
    assert snap.overdue == ["declaration"]
    escalated = sent(harness, "escalation")
    assert [(n.recipient_role, n.recipient) for n in escalated] == [("supervisor", HR_SUPERVISORS)]

    # The employer declares late, at 10:00 that day: accepted, and flagged for HR.
    await harness.sleep_until(china(day_after, 10))
    status = await handle.execute_update(
        RetirementCase.declare,
        Declare(request_id=request_id(), actor=EMPLOYER_ACTOR, declaration=NORMAL),
    )
    assert status.stage is Stage.DECLARATION
    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.late_declaration
    assert snap.overdue == []
    assert any(e.event.startswith(f"late declaration: due {declaration_due}") for e in snap.events)

    # Pre-review has 10 working days from that day: on the official calendar where it covers
    # the year, else counted as 10 Mondays to Fridays and marked as an estimate.
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    expected = expected_clerk_deadline(ClerkTask.PRE_REVIEW, day_after, harness.policy)
    assert (review.due, review.due_estimated) == (expected.due, expected.estimated)
    review_due = expected.due
    await harness.sleep_until(china(review_due + 5 * DAY))
    snap = await snapshot(handle)
    assert [e.task_id for e in snap.escalations] == [None, review.id]
    assert next(t for t in snap.tasks if t.id == review.id).escalated

    # The clerks catch up early in T-4; no contribution-check reminder is due yet (T-2).
    catch_up = t.minus(4).first_day() + 5 * DAY
    assert catch_up > review_due + 5 * DAY
    await harness.sleep_until(china(catch_up, 10))
    await decide(handle, review)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)

    # Past T-2 the check is done, so its reminders (14 and 3 days before its last day) never go
    # out. The window opens at 08:00 on the first day of T-1 and the employer is told; then the
    # 10- and 3-day reminders before its last day.
    initiation_due = t.minus(1).last_day()
    await harness.sleep_until(china(initiation_due - 2 * DAY, 12))
    snap = await snapshot(handle)
    opened = sent(harness, "window-opens")
    assert [(n.recipient_role, n.recipient) for n in opened] == [
        ("organisation", EMPLOYER_ACTOR.organisation)
    ]
    assert opened[0].subject == f"The joint application can be initiated until {initiation_due}"
    assert reminder_times(snap)[3:] == [
        china(initiation_due - 10 * DAY, 9),
        china(initiation_due - 3 * DAY, 9),
    ]
    assert snap.reminders_sent == 5
    assert snap.overdue == []

    # Nobody initiates by the last day of T-1: escalated to HR at midnight.
    await harness.sleep_until(china(initiation_due + DAY, 1))
    snap = await snapshot(handle)
    assert snap.overdue == ["initiation"]
    assert len(snap.escalations) == 3
    assert snap.escalations[2].reason == f"initiation was due {initiation_due} and is not done"

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


async def late_from_the_start(harness: Harness) -> Retiree:
    """A man whose T is about four months from now: his declaration was due by the last day of
    T-6, before the case starts, while the contribution check (T-2) and the window (T-1) are
    still ahead."""
    man = await retiree_from_now(harness, LATE_LEAD)
    today = await harness.today()
    assert man.t.minus(6).last_day() < today < man.t.minus(2).first_day()
    return man


async def test_a_case_declared_after_its_due_date_is_flagged_late(harness: Harness) -> None:
    man = await late_from_the_start(harness)
    handle = await harness.start(man.person, NORMAL)
    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.deadlines.retirement_month == man.t
    assert snap.deadlines.declaration_due == man.t.minus(6).last_day()
    assert snap.late_declaration
    assert any(
        e.event.startswith(f"late declaration: due {man.t.minus(6).last_day()}")
        for e in snap.events
    )
    # Declared (late) is not overdue; nothing escalated, no stale reminder.
    assert snap.overdue == []
    assert snap.escalations == []
    assert snap.reminders_sent == 0


async def test_a_roster_case_already_past_its_declaration_due_is_escalated_at_once(
    harness: Harness,
) -> None:
    # The same kind of T (due by the end of T-6, already past), from the roster: the 30/14/3-day
    # reminders fell due before the case existed and are not sent; the escalation is.
    man = await late_from_the_start(harness)
    handle = await harness.start(man.person)
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
    # Declared at 09:00 on the next working day (a man whose T is about nine months ahead).
    # Pre-review has 10 working days: counted on the official calendar where it covers the
    # year (a real date, on a working day), else as 10 Mondays to Fridays (an estimate);
    # escalated at midnight after it.
    man = await retiree_from_now(harness)
    declared = first_working_day_after(await harness.today(), harness.policy)
    await harness.sleep_until(china(declared, 9))
    handle = await harness.start(man.person, NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    expected = expected_clerk_deadline(ClerkTask.PRE_REVIEW, declared, harness.policy)
    assert (review.due, review.due_estimated) == (expected.due, expected.estimated)
    due = expected.due

    await harness.sleep_until(china(due, 23, 59))
    snap = await snapshot(handle)
    assert snap.escalations == []

    await harness.sleep_until(china(due + DAY, 1))
    snap = await snapshot(handle)
    task = next(t for t in snap.tasks if t.id == review.id)
    assert task.escalated
    assert task.status is TaskStatus.OPEN  # still the clerk's to decide
    [escalation] = snap.escalations
    assert escalation.task_id == review.id
    assert escalation.department is Department.HR
    assert to_the_minute(escalation.at) == china(due + DAY)  # midnight after the due date
    assert escalation.reason == f"pre-review {review.id} was due {due} (working-day deadline)"
    [notice] = sent(harness, "escalation")
    assert (notice.recipient_role, notice.recipient) == ("supervisor", HR_SUPERVISORS)

    # Six more weeks untouched: never escalated again.
    await harness.sleep_until(china(due + 42 * DAY))
    snap = await snapshot(handle)
    assert len(snap.escalations) == 1
    assert len(sent(harness, "escalation")) == 1

    await decide(handle, review)
    await stage_is(handle, Stage.CONTRIBUTION_CHECK)


async def test_an_hr_category_correction_moves_the_declaration_deadline(
    harness: Harness,
) -> None:
    # A woman on the roster as a female worker: original age 50 plus the reform's delay gives
    # a T about fifteen months from now; her declaration is due by the last day of T-6 (with
    # reminders 30, 14 and 3 days before it).
    woman = await retiree_from_now(harness, 15, Category.FEMALE_WORKER, name="王芳")
    old_due = woman.t.minus(6).last_day()
    handle = await harness.start(woman.person)
    snap = await wait_for(handle, lambda s: bool(s.open_tasks()))
    assert snap.deadlines.retirement_month == woman.t
    assert snap.deadlines.declaration_due == old_due

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

    # Her archive shows a cadre post: original age 55 (five years later) plus the cadres'
    # delay: T' is years later, and so are its declaration due date and its first reminder.
    cadre = statutory_retirement(woman.birth_month, Category.FEMALE_CADRE, harness.policy)
    assert cadre.original_retirement_month == woman.birth_month.plus(55 * 12)
    new_t = cadre.retirement_month
    new_due = new_t.minus(6).last_day()
    assert new_due - 30 * DAY > old_due + 2 * DAY
    status = await handle.execute_update(
        RetirementCase.correct_retirement,
        correction.model_copy(update={"actor": clerk(Department.HR)}),
    )
    assert status.retirement_month == new_t
    snap = await snapshot(handle)
    assert snap.category is Category.FEMALE_CADRE
    assert snap.deadlines.retirement_month == new_t
    assert snap.deadlines.declaration_due == new_due
    assert snap.deadlines.initiation_opens == new_t.minus(1).first_day()

    # Past the old reminders and the old due date: nothing fires for them.
    await harness.sleep_until(china(old_due + 2 * DAY))
    snap = await snapshot(handle)
    assert snap.reminders_sent == 0
    assert snap.escalations == []
    assert snap.overdue == []
    assert sent(harness, "reminder") == []
    assert sent(harness, "escalation") == []


async def test_a_flexible_delay_moves_the_initiation_window(harness: Harness) -> None:
    # Statutory T about nine months from now (window T-1), through the check early.
    man = await retiree_from_now(harness)
    t = man.t
    handle = await harness.start(man.person, NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)

    # Delayed six months to T' = T+6: window T'-1 from its first to its last day (reminders 10
    # and 3 days before the last), pension from T'+1.
    new_t = t.plus(6)
    new_opens, new_due = new_t.minus(1).first_day(), new_t.minus(1).last_day()
    await flexible_delay(harness, handle, man, new_t)
    snap = await snapshot(handle)
    d = snap.deadlines
    assert d.retirement_month == new_t
    assert d.statutory_month == t
    assert (d.declaration_due, d.contribution_check_due) == (
        new_t.minus(6).last_day(),
        new_t.minus(2).last_day(),
    )
    assert (d.initiation_opens, d.initiation_due) == (new_opens, new_due)
    assert d.first_pension_month == new_t.plus(1)

    # The old window (T-1) and its due date pass in silence.
    await harness.sleep_until(china(t.first_day() + DAY))
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
    assert str(new_opens) in refusal.message

    # The new window opens; the employer initiates on the first day.
    await harness.sleep_until(china(new_opens, 10))
    [opened] = sent(harness, "window-opens")
    assert opened.subject == f"The joint application can be initiated until {new_due}"
    await handle.execute_update(
        RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
    )
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await approve(handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    await approve(handle, TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL)
    assert (await handle.result()).stage is Stage.COMPLETED
    snap = await snapshot(handle)
    assert snap.pension is not None
    assert snap.pension.first_month == new_t.plus(1)
    assert snap.reminders_sent == 0  # initiated before either reminder was due


async def test_a_correction_moves_the_due_date_of_the_open_party_task(harness: Harness) -> None:
    # As above: awaiting initiation with the task due by the last day of T-1, then delayed six
    # months: due by the last day of T+5.
    man = await retiree_from_now(harness)
    handle = await harness.start(man.person, NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    task = await open_task(handle, TaskKind.INITIATE)
    assert task.due == man.t.minus(1).last_day()

    await flexible_delay(harness, handle, man, man.t.plus(6))
    snap = await snapshot(handle)
    assert snap.deadlines.initiation_due == man.t.plus(5).last_day()
    # The progress page and the NextDeadline search attribute read the open task's due date.
    [still_open] = snap.open_tasks()
    assert still_open.due == man.t.plus(5).last_day()


async def test_a_resubmission_that_moves_t_sends_no_stale_reminder(harness: Harness) -> None:
    # Declared at the start for a statutory T about nine months ahead (check due by T-2).
    man = await retiree_from_now(harness)
    now = await harness.this_month()
    handle = await harness.start(man.person, NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    # Two months on, pre-review returns it; the employer resubmits flexible early retirement
    # for T' four months from the start (notice given the month after the start, 3 months
    # ahead). The check is now due by the last day of T'-2, the month of the return: its
    # 14-day reminder fell three days before the return, its 3-day one is eight days after.
    new_t = now.plus(4)
    new_check_due = new_t.minus(2).last_day()
    returned_on = new_check_due - 11 * DAY
    assert YearMonth.of(returned_on) == now.plus(2)
    resubmitted = Declaration(
        path=RetirementPath.FLEXIBLE_EARLY,
        contribution_years=Decimal(30),
        requested_month=new_t,
        flexible=FlexibleChoice(notice_month=now.plus(1)),
    )
    accepted_plan(man, resubmitted, harness.policy)
    await harness.sleep_until(china(returned_on, 10))
    await decide(handle, review, Outcome.RETURN, reason="he wants to go early")
    await open_task(handle, TaskKind.CORRECT)
    await handle.execute_update(
        RetirementCase.resubmit,
        Resubmit(request_id=request_id(), actor=EMPLOYER_ACTOR, declaration=resubmitted),
    )
    snap = await wait_for(
        handle, lambda s: [t.kind for t in s.open_tasks()] == [TaskKind.PRE_REVIEW]
    )
    assert snap.deadlines.retirement_month == new_t
    assert snap.deadlines.contribution_check_due == new_check_due
    await harness.env.sleep(timedelta(hours=1))
    snap = await snapshot(handle)
    assert snap.reminders_sent == 0  # the 14-day reminder, 3 days past, is not sent late


async def test_a_category_correction_must_match_the_gender(harness: Harness) -> None:
    # A man on the roster (T about nine months ahead).
    handle = await harness.start((await retiree_from_now(harness)).person)
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
