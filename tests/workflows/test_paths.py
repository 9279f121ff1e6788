"""Every retirement path reaches COMPLETED: special job, illness, flexible early, flexible delay,
and a person without an employer whose archive agency declares and who initiates themself.

The server's clock starts at the real time (2026-11-28). Each person is chosen so the month T
they retire in lies in 2027; the dates below are counted by hand from T:
declaration due = last day of T-6, initiation window = T-1, first pension = T+1.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from contracts.case import (
    Actor,
    Declaration,
    Department,
    FlexibleChoice,
    OneChild,
    Person,
    Role,
    SpecialJob,
)
from contracts.identity import person_key
from contracts.workflow import (
    Assignee,
    CaseSnapshot,
    Initiate,
    ItemKey,
    ItemStatus,
    RefusalType,
    Stage,
    TaskKind,
)
from domain.early import Appraisal
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import SpecialJobKind
from tests.workflows.conftest import (
    AGENCY_ACTOR,
    EMPLOYER_ACTOR,
    SECRET,
    Harness,
    open_task,
    person,
    request_id,
    snapshot,
    stage_is,
)
from tests.workflows.helpers import Case, approve, china, refused
from workflows.case import RetirementCase

ONE_CHILD = OneChild(holds_certificate=True, child_birth_date=date(1990, 5, 1))


async def drive_to_initiation(harness: Harness, handle: Case, *, window_opens: date) -> None:
    """The clerks approve pre-review and the contribution check; the clock moves to 10:00 on
    the day the initiation window opens."""
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)
    await harness.sleep_until(china(window_opens, 10))


async def finish_joint_handling(handle: Case, initiator: Actor) -> CaseSnapshot:
    """``initiator`` initiates; HR approves, social insurance and medical security confirm.

    No fund account is on file for these people, so item 7 ends not applicable and there is no
    provident-fund task; every other department reports.
    """
    await handle.execute_update(
        RetirementCase.initiate, Initiate(request_id=request_id(), actor=initiator)
    )
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await approve(handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    await approve(handle, TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL)
    outcome = await handle.result()
    assert outcome.stage is Stage.COMPLETED
    snap = await snapshot(handle)
    assert snap.stage is Stage.COMPLETED
    assert not snap.open_tasks()
    assert snap.item(ItemKey.PENSION_ELIGIBILITY).status is ItemStatus.DONE
    assert snap.item(ItemKey.PENSION_DEEMED_YEARS).status is ItemStatus.DONE
    assert snap.item(ItemKey.PENSION_PAYMENT).status is ItemStatus.DONE
    assert snap.item(ItemKey.MEDICAL_DEEMED_YEARS).status is ItemStatus.DONE
    assert snap.item(ItemKey.HOUSEHOLD).status is ItemStatus.DONE
    assert snap.item(ItemKey.PROVIDENT_FUND).status is ItemStatus.NOT_APPLICABLE
    initiated = next(t for t in snap.tasks if t.kind is TaskKind.INITIATE)
    assert initiated.closed_by == initiator
    return snap


async def drive_to_completion(
    harness: Harness, handle: Case, *, window_opens: date, initiator: Actor = EMPLOYER_ACTOR
) -> CaseSnapshot:
    """From pre-review to COMPLETED with every clerk approving."""
    await drive_to_initiation(harness, handle, window_opens=window_opens)
    return await finish_joint_handling(handle, initiator)


def early_items(snap: CaseSnapshot) -> tuple[ItemStatus, ItemStatus]:
    """Items 3 (special-job early retirement) and 4 (illness early retirement)."""
    return (
        snap.item(ItemKey.SPECIAL_JOB_EARLY).status,
        snap.item(ItemKey.ILLNESS_EARLY).status,
    )


async def test_special_job_early_retirement(harness: Harness) -> None:
    # Born 1972-03: statutory month 2034-01, but a man with special-job years may go at 55,
    # from 2027-03. Nine years of harmful work (8 needed); he asks for 2027-09 = T.
    # Declaration due 2027-03-31, the window opens 2027-08-01, the pension is paid from 2027-10.
    retiree = person(date(1972, 3, 10))
    declaration = Declaration(
        path=RetirementPath.SPECIAL_JOB,
        contribution_years=Decimal(28),
        requested_month=YearMonth(2027, 9),
        special_jobs=[SpecialJob(kind=SpecialJobKind.HARMFUL, years=Decimal(9))],
    )
    handle = await harness.start(retiree, declaration)

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.path is RetirementPath.SPECIAL_JOB
    assert snap.deadlines.retirement_month == YearMonth(2027, 9)
    assert snap.deadlines.statutory_month == YearMonth(2034, 1)
    assert snap.deadlines.declaration_due == date(2027, 3, 31)
    # Item 3 is HR's to decide at pre-review; item 4 is not on this path.
    assert early_items(snap) == (ItemStatus.WAITING, ItemStatus.NOT_APPLICABLE)

    snap = await drive_to_completion(harness, handle, window_opens=date(2027, 8, 1))
    assert early_items(snap) == (ItemStatus.DONE, ItemStatus.NOT_APPLICABLE)
    assert snap.deadlines.retirement_month == YearMonth(2027, 9)
    assert snap.pension is not None
    assert snap.pension.first_month == YearMonth(2027, 10)
    # No one-child certificate declared: item 8 does not concern him.
    assert snap.item(ItemKey.ONE_CHILD_REWARD).status is ItemStatus.NOT_APPLICABLE


async def test_illness_early_retirement(harness: Harness) -> None:
    # Born 1977-02: statutory month 2040-02. With an appraisal of complete loss of labour
    # capacity and 20 contribution years (15 needed) a man may go at 50, from 2027-02.
    # He asks for 2027-10 = T: the window opens 2027-09-01, the pension is paid from 2027-11.
    retiree = person(date(1977, 2, 10))
    declaration = Declaration(
        path=RetirementPath.ILLNESS,
        contribution_years=Decimal(20),
        requested_month=YearMonth(2027, 10),
        appraisal=Appraisal.COMPLETE_LOSS,
    )
    handle = await harness.start(retiree, declaration)

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.deadlines.retirement_month == YearMonth(2027, 10)
    assert snap.deadlines.initiation_opens == date(2027, 9, 1)
    assert early_items(snap) == (ItemStatus.NOT_APPLICABLE, ItemStatus.WAITING)

    snap = await drive_to_completion(harness, handle, window_opens=date(2027, 9, 1))
    assert early_items(snap) == (ItemStatus.NOT_APPLICABLE, ItemStatus.DONE)
    assert snap.pension is not None
    assert snap.pension.first_month == YearMonth(2027, 11)


async def test_flexible_early_retirement(harness: Harness) -> None:
    # Born 1967-06: original month 2027-06, statutory 2028-02 (+8 months). Flexible early
    # retirement allows any month from max(2028-02 - 36, 2027-06) = 2027-06; he gave written
    # notice in 2026-11 (at least 3 months before) for 2027-09 = T. Window opens 2027-08-01.
    retiree = person(date(1967, 6, 10))
    declaration = Declaration(
        path=RetirementPath.FLEXIBLE_EARLY,
        contribution_years=Decimal(30),
        requested_month=YearMonth(2027, 9),
        flexible=FlexibleChoice(notice_month=YearMonth(2026, 11)),
    )
    handle = await harness.start(retiree, declaration)

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.deadlines.retirement_month == YearMonth(2027, 9)
    assert snap.deadlines.statutory_month == YearMonth(2028, 2)
    assert snap.deadlines.declaration_due == date(2027, 3, 31)

    snap = await drive_to_completion(harness, handle, window_opens=date(2027, 8, 1))
    assert early_items(snap) == (ItemStatus.NOT_APPLICABLE, ItemStatus.NOT_APPLICABLE)
    assert snap.path is RetirementPath.FLEXIBLE_EARLY
    assert snap.pension is not None
    assert snap.pension.first_month == YearMonth(2027, 10)


async def test_flexible_delay_with_the_one_child_reward_notice(harness: Harness) -> None:
    # Born 1966-09: statutory month 2027-03. He and his employer agreed a delay to 2027-12,
    # confirmed in writing in 2026-11 (due by 2027-02, a month before the statutory month).
    # T = 2027-12: declaration due 2027-06-30, window 2027-11-01..2027-11-30, pension 2028-01.
    # He holds a one-child certificate for a child born 1990-05-01 (on or before 2015-12-31).
    retiree = person(date(1966, 9, 10))
    declaration = Declaration(
        path=RetirementPath.FLEXIBLE_DELAY,
        contribution_years=Decimal(30),
        requested_month=YearMonth(2027, 12),
        flexible=FlexibleChoice(notice_month=YearMonth(2026, 11), employer_agreed=True),
        one_child=ONE_CHILD,
    )
    handle = await harness.start(retiree, declaration)

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.deadlines.retirement_month == YearMonth(2027, 12)
    assert snap.deadlines.statutory_month == YearMonth(2027, 3)
    assert snap.deadlines.declaration_due == date(2027, 6, 30)
    assert snap.deadlines.initiation_opens == date(2027, 11, 1)
    assert snap.deadlines.initiation_due == date(2027, 11, 30)

    snap = await drive_to_completion(harness, handle, window_opens=date(2027, 11, 1))
    assert early_items(snap) == (ItemStatus.NOT_APPLICABLE, ItemStatus.NOT_APPLICABLE)
    assert snap.pension is not None
    assert snap.pension.first_month == YearMonth(2028, 1)
    # Item 8: the health commission's policy, channel and procedure are shown to him.
    reward = snap.item(ItemKey.ONE_CHILD_REWARD)
    assert reward.status is ItemStatus.DONE
    assert reward.detail == "policy, channel and procedure shown"
    assert harness.fakes.count("reward-notice") == 1
    shown = [n for n in harness.fakes.notifications if n.kind == "one-child-reward"]
    assert len(shown) == 1
    assert shown[0].recipient_role == "individual"
    assert shown[0].recipient == person_key(retiree.id_number, SECRET)
    assert "独生子女父母光荣证" in shown[0].body  # the policy text
    assert "卫生健康部门审核并公示" in shown[0].body  # a step of the procedure


async def test_a_person_without_an_employer(harness: Harness) -> None:
    # Born 1967-01, T = 2027-08 (window opens 2027-07-01). No employer: the archive agency
    # declares for him, and he initiates the joint application himself.
    retiree: Person = person(date(1967, 1, 15), agency=True)
    me = Actor(id=person_key(retiree.id_number, SECRET), role=Role.INDIVIDUAL)
    handle = await harness.start(
        retiree, Declaration(contribution_years=Decimal(30)), by=AGENCY_ACTOR
    )

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert not snap.has_employer
    assert snap.organisation == AGENCY_ACTOR.organisation
    assert snap.deadlines.retirement_month == YearMonth(2027, 8)

    await drive_to_initiation(harness, handle, window_opens=date(2027, 7, 1))
    initiate_task = await open_task(handle, TaskKind.INITIATE)
    assert initiate_task.assignee is Assignee.INDIVIDUAL  # his, not the agency's

    # The agency does the employer's part, but the joint application is his to initiate.
    await refused(
        handle.execute_update(
            RetirementCase.initiate, Initiate(request_id=request_id(), actor=AGENCY_ACTOR)
        ),
        RefusalType.FORBIDDEN,
    )
    # Nor can an employer initiate for someone who has none.
    await refused(
        handle.execute_update(
            RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
        ),
        RefusalType.FORBIDDEN,
    )
    snap = await snapshot(handle)
    assert snap.stage is Stage.AWAITING_INITIATION

    snap = await finish_joint_handling(handle, initiator=me)
    assert early_items(snap) == (ItemStatus.NOT_APPLICABLE, ItemStatus.NOT_APPLICABLE)
    # The window notice went to him, not to an employer.
    window = [n for n in harness.fakes.notifications if n.kind == "window-opens"]
    assert [(n.recipient_role, n.recipient) for n in window] == [("individual", me.id)]
