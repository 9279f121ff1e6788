"""Every retirement path reaches COMPLETED: special job, illness, flexible early, flexible delay,
and a person without an employer whose archive agency declares and who initiates themself.

The server's clock starts at the real time of the run, so each person is chosen by the months
between now and the month T they retire in (their birth month counted back from the early,
original or statutory age), and each declaration is checked against the rules before the story
starts. The dates are counted by hand from T: declaration due = last day of T-6, initiation
window = T-1 (from its first day), first pension = T+1.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from contracts.declarations import Declaration, FlexibleChoice, OneChild, SpecialJob
from contracts.identity import person_key
from contracts.people import Actor, Department, Person, Role
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
from domain.plan import RetirementPath
from domain.policy import SpecialJobKind
from tests.workflows.conftest import (
    AGENCY_ACTOR,
    EMPLOYER_ACTOR,
    SECRET,
    Harness,
    open_task,
    request_id,
    snapshot,
    stage_is,
)
from tests.workflows.helpers import Case, approve, china, refused
from tests.workflows.people import accepted_plan, born_in, retiree_from_now, retiring
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
    # T is ten months from now. He turns 55, the special-job early age for a man, in T-6; his
    # statutory month (60 plus the reform's delay) is years away. Nine years of harmful work
    # (8 needed); he asks for T. Declaration due the last day of T-6 (four months ahead), the
    # window opens on the first day of T-1, the pension is paid from T+1.
    t = (await harness.this_month()).plus(10)
    man = born_in(t.minus(6).minus(55 * 12), harness.policy)
    assert man.t.months_since(t) >= 5 * 12 - 6
    declaration = Declaration(
        path=RetirementPath.SPECIAL_JOB,
        contribution_years=Decimal(28),
        requested_month=t,
        special_jobs=[SpecialJob(kind=SpecialJobKind.HARMFUL, years=Decimal(9))],
    )
    plan = accepted_plan(man, declaration, harness.policy)
    assert plan.early is not None
    assert plan.early.earliest_month == t.minus(6)
    handle = await harness.start(man.person, declaration)

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.path is RetirementPath.SPECIAL_JOB
    assert snap.deadlines.retirement_month == t
    assert snap.deadlines.statutory_month == man.t
    assert snap.deadlines.declaration_due == t.minus(6).last_day()
    assert not snap.late_declaration
    # Item 3 is HR's to decide at pre-review; item 4 is not on this path.
    assert early_items(snap) == (ItemStatus.WAITING, ItemStatus.NOT_APPLICABLE)

    snap = await drive_to_completion(harness, handle, window_opens=t.minus(1).first_day())
    assert early_items(snap) == (ItemStatus.DONE, ItemStatus.NOT_APPLICABLE)
    assert snap.deadlines.retirement_month == t
    assert snap.pension is not None
    assert snap.pension.first_month == t.plus(1)
    # No one-child certificate declared: item 8 does not concern him.
    assert snap.item(ItemKey.ONE_CHILD_REWARD).status is ItemStatus.NOT_APPLICABLE


async def test_illness_early_retirement(harness: Harness) -> None:
    # He turned 50 three months from now: with an appraisal of complete loss of labour capacity
    # and 20 contribution years (15 needed) a man may go at 50; his statutory month is about ten
    # years later. He asks for T eleven months from now: the window opens on the first day of
    # T-1, the pension is paid from T+1.
    now = await harness.this_month()
    t = now.plus(11)
    man = born_in(now.plus(3).minus(50 * 12), harness.policy)
    declaration = Declaration(
        path=RetirementPath.ILLNESS,
        contribution_years=Decimal(20),
        requested_month=t,
        appraisal=Appraisal.COMPLETE_LOSS,
    )
    plan = accepted_plan(man, declaration, harness.policy)
    assert plan.early is not None
    assert plan.early.earliest_month == now.plus(3)
    handle = await harness.start(man.person, declaration)

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.deadlines.retirement_month == t
    assert snap.deadlines.statutory_month == man.t
    assert snap.deadlines.initiation_opens == t.minus(1).first_day()
    assert early_items(snap) == (ItemStatus.NOT_APPLICABLE, ItemStatus.WAITING)

    snap = await drive_to_completion(harness, handle, window_opens=t.minus(1).first_day())
    assert early_items(snap) == (ItemStatus.NOT_APPLICABLE, ItemStatus.DONE)
    assert snap.pension is not None
    assert snap.pension.first_month == t.plus(1)


async def test_flexible_early_retirement(harness: Harness) -> None:
    # He reaches his original age (60) seven months from now; the reform delays his statutory
    # month by more than three months after that. Flexible early retirement allows any month
    # from max(statutory - 36, original) = the original month; he gave written notice this
    # month (at least 3 months before) for T ten months from now. The window opens on the first
    # day of T-1.
    now = await harness.this_month()
    t = now.plus(10)
    man = born_in(now.plus(7).minus(60 * 12), harness.policy)
    assert man.statutory.original_retirement_month == now.plus(7)
    assert man.t > t
    declaration = Declaration(
        path=RetirementPath.FLEXIBLE_EARLY,
        contribution_years=Decimal(30),
        requested_month=t,
        flexible=FlexibleChoice(notice_month=now),
    )
    plan = accepted_plan(man, declaration, harness.policy)
    assert plan.flexible is not None
    assert plan.flexible.earliest_month == now.plus(7)
    handle = await harness.start(man.person, declaration)

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.deadlines.retirement_month == t
    assert snap.deadlines.statutory_month == man.t
    assert snap.deadlines.declaration_due == t.minus(6).last_day()
    assert not snap.late_declaration

    snap = await drive_to_completion(harness, handle, window_opens=t.minus(1).first_day())
    assert early_items(snap) == (ItemStatus.NOT_APPLICABLE, ItemStatus.NOT_APPLICABLE)
    assert snap.path is RetirementPath.FLEXIBLE_EARLY
    assert snap.pension is not None
    assert snap.pension.first_month == t.plus(1)


async def test_flexible_delay_with_the_one_child_reward_notice(harness: Harness) -> None:
    # His statutory month is about four months from now. He and his employer agreed a delay of
    # nine months, to T, confirmed in writing this month (due by the month before the statutory
    # month). Declaration due the last day of T-6, window from the first to the last day of
    # T-1, pension from T+1. He holds a one-child certificate for a child born 1990-05-01 (on
    # or before 2015-12-31).
    now = await harness.this_month()
    man = retiring(now, 4, harness.policy)
    t = man.t.plus(9)
    declaration = Declaration(
        path=RetirementPath.FLEXIBLE_DELAY,
        contribution_years=Decimal(30),
        requested_month=t,
        flexible=FlexibleChoice(notice_month=now, employer_agreed=True),
        one_child=ONE_CHILD,
    )
    accepted_plan(man, declaration, harness.policy)
    handle = await harness.start(man.person, declaration)

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.deadlines.retirement_month == t
    assert snap.deadlines.statutory_month == man.t
    assert snap.deadlines.declaration_due == t.minus(6).last_day()
    assert not snap.late_declaration
    assert snap.deadlines.initiation_opens == t.minus(1).first_day()
    assert snap.deadlines.initiation_due == t.minus(1).last_day()

    snap = await drive_to_completion(harness, handle, window_opens=t.minus(1).first_day())
    assert early_items(snap) == (ItemStatus.NOT_APPLICABLE, ItemStatus.NOT_APPLICABLE)
    assert snap.pension is not None
    assert snap.pension.first_month == t.plus(1)
    # Item 8: the health commission's policy, channel and procedure are shown to him.
    reward = snap.item(ItemKey.ONE_CHILD_REWARD)
    assert reward.status is ItemStatus.DONE
    assert reward.detail == "policy, channel and procedure shown"
    assert harness.fakes.count("reward-notice") == 1
    shown = [n for n in harness.fakes.notifications if n.kind == "one-child-reward"]
    assert len(shown) == 1
    assert shown[0].recipient_role == "individual"
    assert shown[0].recipient == person_key(man.person.id_number, SECRET)
    assert "独生子女父母光荣证" in shown[0].body  # the policy text
    assert "卫生健康部门审核并公示" in shown[0].body  # a step of the procedure


async def test_a_person_without_an_employer(harness: Harness) -> None:
    # Statutory T about nine months from now (the window opens on the first day of T-1). No
    # employer: the archive agency declares for him, and he initiates the joint application
    # himself.
    man = await retiree_from_now(harness, agency=True)
    retiree: Person = man.person
    me = Actor(id=person_key(retiree.id_number, SECRET), role=Role.INDIVIDUAL)
    handle = await harness.start(
        retiree, Declaration(contribution_years=Decimal(30)), by=AGENCY_ACTOR
    )

    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert not snap.has_employer
    assert snap.organisation == AGENCY_ACTOR.organisation
    assert snap.deadlines.retirement_month == man.t

    await drive_to_initiation(harness, handle, window_opens=man.t.minus(1).first_day())
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
