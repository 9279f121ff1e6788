"""Ending a case early: the employer withdraws before joint handling, the HR bureau cancels.

Throughout, a man whose statutory month T is about nine months after the test starts: the
initiation window opens on the first day of T-1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from contracts.people import Actor, Department, Role
from contracts.workflow import (
    Cancel,
    ContributionProblem,
    ContributionProblemKind,
    ItemKey,
    ItemStatus,
    RefusalType,
    Stage,
    TaskKind,
    TaskStatus,
    Withdraw,
)
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    Harness,
    clerk,
    open_task,
    request_id,
    snapshot,
    stage_is,
    wait_for,
)
from tests.workflows.fakes import Fund
from tests.workflows.helpers import NORMAL, Case, approve, refused, to_joint_handling
from tests.workflows.people import retiree_from_now
from workflows.case import RetirementCase

PROBLEMS = [
    ContributionProblem(id="arrears-2019", kind=ContributionProblemKind.ARREARS, detail="3 months"),
    ContributionProblem(id="gap-2008", kind=ContributionProblemKind.INTERRUPTION, detail="2008"),
]


def withdraw(reason: str = "he has taken a new job", actor: Actor = EMPLOYER_ACTOR) -> Withdraw:
    return Withdraw(request_id=request_id(), actor=actor, reason=reason)


def cancel(actor: Actor, reason: str = "the person died during joint handling") -> Cancel:
    return Cancel(request_id=request_id(), actor=actor, reason=reason)


# ---- getting a case to a stage ------------------------------------------------------------


async def awaiting_declaration(harness: Harness) -> Case:
    retiree = (await retiree_from_now(harness)).person
    handle = await harness.start(retiree)  # from the roster: the DECLARE task is open
    await open_task(handle, TaskKind.DECLARE)
    return handle


async def declaration(harness: Harness) -> Case:
    # The household registry is down for a while (retried after 1, 2, 4 and 8 s): the case
    # stays in the declaration stage while public security's check is retried.
    harness.fakes.outages["verify"] = 4
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    await stage_is(handle, Stage.DECLARATION)
    return handle


async def pre_review(harness: Harness) -> Case:
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    await open_task(handle, TaskKind.PRE_REVIEW)
    return handle


async def contribution_check(harness: Harness) -> Case:
    retiree = (await retiree_from_now(harness)).person
    harness.fakes.add_person(retiree.id_number, retiree.name, problems=PROBLEMS)
    handle = await harness.start(retiree, NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await wait_for(handle, lambda s: len(s.open_tasks()) == 2)  # one settle task per problem
    return handle


async def awaiting_initiation(harness: Harness) -> Case:
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await open_task(handle, TaskKind.INITIATE)
    return handle


async def joint_handling(harness: Harness) -> Case:
    """Initiated on the day the window opens (the first of T-1) with a fund account on file;
    the formal approval is open."""
    man = await retiree_from_now(harness)
    retiree = man.person
    harness.fakes.add_person(retiree.id_number, retiree.name, fund=Fund())
    handle = await harness.start(retiree, NORMAL)
    await to_joint_handling(harness, handle, window_opens=man.timeline.initiation_opens)
    return handle


async def contribution_check_reading(harness: Harness) -> Case:
    # Pre-review approved; the social insurance system is down for a while (retried after 1,
    # 2, 4 and 8 s), so the contribution record is still being read and no task is open yet.
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    harness.fakes.outages["contribution_status"] = 4
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    return handle


EARLY_STAGES: dict[str, tuple[Stage, Callable[[Harness], Awaitable[Case]]]] = {
    "awaiting-declaration": (Stage.AWAITING_DECLARATION, awaiting_declaration),
    "declaration-household-check-in-flight": (Stage.DECLARATION, declaration),
    "pre-review": (Stage.PRE_REVIEW, pre_review),
    "contribution-check-settle-tasks": (Stage.CONTRIBUTION_CHECK, contribution_check),
    "contribution-check-record-in-flight": (Stage.CONTRIBUTION_CHECK, contribution_check_reading),
    "awaiting-initiation": (Stage.AWAITING_INITIATION, awaiting_initiation),
}


# ---- withdrawal --------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(EARLY_STAGES))
async def test_the_employer_withdraws_in_an_early_stage(harness: Harness, case: str) -> None:
    stage, drive = EARLY_STAGES[case]
    handle = await drive(harness)
    before = await snapshot(handle)
    assert before.stage is stage
    was_open = {t.id for t in before.open_tasks()}

    status = await handle.execute_update(RetirementCase.withdraw, withdraw())
    assert status.stage is Stage.WITHDRAWN
    assert status.open_tasks == []

    # Let any department step still being retried come back.
    await harness.env.sleep(timedelta(minutes=5))
    snap = await snapshot(handle)
    assert snap.stage is Stage.WITHDRAWN
    assert snap.open_tasks() == []
    for task in snap.tasks:
        if task.id in was_open:
            assert task.status is TaskStatus.CANCELLED
            assert task.reason == "case withdrawn"
    assert snap.closed_reason == "withdrawn: he has taken a new job"
    assert any(e.event == "withdraw: he has taken a new job" for e in snap.events)

    outcome = await handle.result()
    assert outcome.stage is Stage.WITHDRAWN


async def test_withdrawal_is_refused_once_joint_handling_has_begun(harness: Harness) -> None:
    handle = await joint_handling(harness)
    refusal = await refused(
        handle.execute_update(RetirementCase.withdraw, withdraw()), RefusalType.WRONG_STAGE
    )
    assert "cancel" in refusal.message  # it points to the HR bureau
    snap = await snapshot(handle)
    assert snap.stage is Stage.JOINT_HANDLING


async def test_only_the_persons_organisation_withdraws(harness: Harness) -> None:
    handle = await pre_review(harness)
    other = Actor(id="x", role=Role.EMPLOYER, organisation="emp-jl-9999")
    await refused(
        handle.execute_update(RetirementCase.withdraw, withdraw(actor=other)),
        RefusalType.WRONG_ORGANISATION,
    )
    await refused(
        handle.execute_update(RetirementCase.withdraw, withdraw(actor=clerk(Department.HR))),
        RefusalType.FORBIDDEN,
    )


# ---- cancellation ------------------------------------------------------------------------


def side_effects(harness: Harness) -> tuple[Counter[str], dict[str, int], int]:
    """Every call to a department (the read model aside), every effect, every notification."""
    calls = Counter({k: v for k, v in harness.fakes.calls.items() if k != "project"})
    effects = {kind: len(done) for kind, done in harness.fakes.effects.items()}
    return calls, effects, len(harness.fakes.notifications)


@pytest.mark.parametrize(
    "actor",
    [clerk(Department.HR), clerk(Department.HR, "220000", role=Role.SUPERVISOR)],
    ids=["hr-clerk", "provincial-hr-supervisor"],
)
async def test_hr_cancels_during_joint_handling(harness: Harness, actor: Actor) -> None:
    handle = await joint_handling(harness)
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    # Three departments are at work: pension, medical years and the fund each await a clerk.
    waiting = {TaskKind.CONFIRM_PENSION, TaskKind.CONFIRM_MEDICAL_YEARS, TaskKind.FUND_WITHDRAWAL}
    snap = await wait_for(handle, lambda s: {t.kind for t in s.open_tasks()} == waiting)
    was_open = {t.id for t in snap.open_tasks()}
    before = side_effects(harness)

    status = await handle.execute_update(RetirementCase.cancel, cancel(actor))
    assert status.stage is Stage.CANCELLED
    assert status.open_tasks == []

    outcome = await handle.result()
    assert outcome.stage is Stage.CANCELLED
    assert outcome.closed_reason == "cancelled: the person died during joint handling"
    snap = await snapshot(handle)
    assert snap.open_tasks() == []
    assert {t.id for t in snap.tasks if t.status is TaskStatus.CANCELLED} == was_open
    # Nothing happened at any department after the cancellation: no pension award, no payout,
    # no medical status change, no "completed" notice.
    assert side_effects(harness) == before
    assert harness.fakes.count("pension-award") == 0
    assert harness.fakes.count("fund-payout") == 0
    assert snap.pension is None
    assert snap.fund is None
    assert "case-completed" not in {n.kind for n in harness.fakes.notifications}
    last = snap.events[-1]
    assert last.event == "stage: cancelled"
    cancelled = next(e for e in snap.events if e.event.startswith("cancel:"))
    assert cancelled.actor == actor.label()


async def test_who_may_not_cancel(harness: Harness) -> None:
    handle = await joint_handling(harness)
    # Another department's clerk: only the HR bureau cancels.
    await refused(
        handle.execute_update(RetirementCase.cancel, cancel(clerk(Department.SOCIAL_INSURANCE))),
        RefusalType.WRONG_DEPARTMENT,
    )
    # The employer (it could withdraw earlier, not cancel).
    await refused(
        handle.execute_update(RetirementCase.cancel, cancel(EMPLOYER_ACTOR)),
        RefusalType.FORBIDDEN,
    )
    # An HR clerk of Jilin City (220200) for a Changchun case (220102).
    await refused(
        handle.execute_update(RetirementCase.cancel, cancel(clerk(Department.HR, "220200"))),
        RefusalType.WRONG_REGION,
    )
    snap = await snapshot(handle)
    assert snap.stage is Stage.JOINT_HANDLING
    assert [t.kind for t in snap.open_tasks()] == [TaskKind.FORMAL_APPROVAL]


async def test_a_supervisor_of_another_department_may_not_cancel(harness: Harness) -> None:
    handle = await joint_handling(harness)
    fund_supervisor = clerk(Department.PROVIDENT_FUND, role=Role.SUPERVISOR)
    await refused(
        handle.execute_update(RetirementCase.cancel, cancel(fund_supervisor)),
        RefusalType.WRONG_DEPARTMENT,
    )


async def test_nothing_more_happens_after_a_cancellation_with_a_step_in_flight(
    harness: Harness,
) -> None:
    handle = await joint_handling(harness)
    # The HR system is down for a while (retried after 1, 2, 4 and 8 s): recording the
    # approval is being retried when the HR clerk cancels the case.
    harness.fakes.outages["record_approval"] = 4
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await handle.execute_update(RetirementCase.cancel, cancel(clerk(Department.HR)))

    outcome = await handle.result()
    assert outcome.stage is Stage.CANCELLED
    snap = await snapshot(handle)
    assert snap.open_tasks() == []
    # "Retirement approved" must not reach a person whose case was cancelled.
    assert "rights-notice" not in {n.kind for n in harness.fakes.notifications}
    assert snap.item(ItemKey.PENSION_ELIGIBILITY).status is not ItemStatus.DONE


async def test_a_cancelled_case_keeps_no_open_task_when_a_department_answers_late(
    harness: Harness,
) -> None:
    handle = await joint_handling(harness)
    # Medical security and the fund centre are down for a while; the pension task is open
    # when the HR clerk cancels, and their answers come after.
    harness.fakes.outages["medical_record"] = 4
    harness.fakes.outages["account"] = 4
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await open_task(handle, TaskKind.CONFIRM_PENSION)
    await handle.execute_update(RetirementCase.cancel, cancel(clerk(Department.HR)))

    outcome = await handle.result()
    assert outcome.stage is Stage.CANCELLED
    snap = await snapshot(handle)
    assert snap.open_tasks() == []


async def test_no_cancellation_once_money_has_moved(harness: Harness) -> None:
    """After the pension is awarded (or the fund paid out) a cancellation would leave the money
    where it went: it is refused, and stopping the pension is social insurance's own procedure."""
    handle = await joint_handling(harness)
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await approve(handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    await wait_for(handle, lambda s: s.pension is not None and s.pension.award_id is not None)
    refusal = await refused(
        handle.execute_update(RetirementCase.cancel, cancel(clerk(Department.HR))),
        RefusalType.WRONG_STAGE,
    )
    assert "awarded" in refusal.message
    assert (await snapshot(handle)).stage is Stage.JOINT_HANDLING
