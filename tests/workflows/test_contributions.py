"""The contribution check (缴费核查): problems the employer (or the person) settles, the social
insurance clerk's confirmation, and a missing contribution record.

A man whose statutory month T is about nine months after the test starts: the check's feedback
is due by T-2, on its last day.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from contracts.identity import person_key
from contracts.people import Actor, Department, Role
from contracts.workflow import (
    Assignee,
    ContributionProblem,
    ContributionProblemKind,
    Outcome,
    RefusalType,
    Settle,
    Stage,
    TaskKind,
    TaskStatus,
)
from tests.workflows.conftest import (
    AGENCY_ACTOR,
    EMPLOYER_ACTOR,
    SECRET,
    Harness,
    open_task,
    request_id,
    snapshot,
    stage_is,
    wait_for,
)
from tests.workflows.fakes import Contributions
from tests.workflows.helpers import NORMAL, Case, approve, decide, refused
from tests.workflows.people import Retiree, retiree_from_now
from workflows.case import RetirementCase

ARREARS = ContributionProblem(
    id="arrears-2019",
    kind=ContributionProblemKind.ARREARS,
    detail="3 months unpaid in 2019",
    amount_yuan=Decimal("2466.00"),
)
TRANSFER = ContributionProblem(
    id="transfer-ln-2003",
    kind=ContributionProblemKind.TRANSFER,
    detail="2001-2005 contributed in Liaoning: transfer the relation",
)


def check_due(retiree: Retiree) -> date:
    """The contribution check's feedback is due by the last day of T-2."""
    due = retiree.t.minus(2).last_day()
    assert due == retiree.timeline.contribution_check_due
    return due


def years_needed(retirement_year: int) -> Decimal:
    """Contribution years needed for a pension, by hand from the 2024 decision: 15 until 2029,
    then half a year more each year (15.5 in 2030), up to 20."""
    if retirement_year <= 2029:
        return Decimal(15)
    return min(Decimal(15) + Decimal("0.5") * (retirement_year - 2029), Decimal(20))


async def settle(handle: Case, task_id: str, actor: Actor, note: str) -> None:
    await handle.execute_update(
        RetirementCase.settle,
        Settle(request_id=request_id(), actor=actor, task_id=task_id, note=note),
    )


async def test_arrears_and_a_transfer_are_settled_then_confirmed(harness: Harness) -> None:
    man = await retiree_from_now(harness)
    retiree = man.person
    harness.fakes.add_person(retiree.id_number, retiree.name, problems=[ARREARS, TRANSFER])
    handle = await harness.start(retiree, NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)

    # The record shows two problems: one task each, for the employer, due by T-2.
    snap = await wait_for(handle, lambda s: len(s.open_tasks()) == 2)
    assert snap.stage is Stage.CONTRIBUTION_CHECK
    tasks = {t.problem.id: t for t in snap.open_tasks() if t.problem is not None}
    assert set(tasks) == {ARREARS.id, TRANSFER.id}
    for task in tasks.values():
        assert task.kind is TaskKind.SETTLE_CONTRIBUTIONS
        assert task.assignee is Assignee.ORGANISATION
        assert task.organisation == EMPLOYER_ACTOR.organisation
        assert task.due == check_due(man)
    assert tasks[ARREARS.id].problem == ARREARS
    assert harness.fakes.calls["contribution_status"] == 1

    # The employer pays the arrears: nothing goes to social insurance until both are settled.
    await settle(handle, tasks[ARREARS.id].id, EMPLOYER_ACTOR, "paid the 2466.00 in arrears")
    snap = await snapshot(handle)
    assert [t.problem.id for t in snap.open_tasks() if t.problem] == [TRANSFER.id]
    # Settling the same task again is stale.
    await refused(
        handle.execute_update(
            RetirementCase.settle,
            Settle(
                request_id=request_id(),
                actor=EMPLOYER_ACTOR,
                task_id=tasks[ARREARS.id].id,
                note="again",
            ),
        ),
        RefusalType.STALE,
    )
    await settle(handle, tasks[TRANSFER.id].id, EMPLOYER_ACTOR, "transfer form sent")

    # Both settled: the settle step ran once for each, and the re-check is clean.
    confirm = await open_task(handle, TaskKind.CONFIRM_CONTRIBUTIONS)
    assert confirm.department is Department.SOCIAL_INSURANCE
    assert harness.fakes.calls["settle"] == 2
    assert set(harness.fakes.effects["settlement"]) == {
        f"{snap.case_id}:settle:{tasks[ARREARS.id].id}",
        f"{snap.case_id}:settle:{tasks[TRANSFER.id].id}",
    }
    assert harness.fakes.contributions[retiree.id_number].settled == {ARREARS.id, TRANSFER.id}
    assert harness.fakes.calls["contribution_status"] == 2
    # 30 actual years on record and the 0 deemed years HR recognised at pre-review (the
    # record's 5 are not counted: one figure, HR's), against the years needed in the year of T.
    needed = years_needed(man.t.year)
    assert confirm.detail == (
        f"record active: 30 years ({needed} needed); 0 deemed years as recognised at "
        "pre-review (the record shows 5)"
    )

    # The clerk wants the record read again before confirming: RETURN, then a new task.
    await decide(handle, confirm, Outcome.RETURN, reason="transfer just arrived, re-read")
    again = await wait_for(
        handle,
        lambda s: any(
            t.kind is TaskKind.CONFIRM_CONTRIBUTIONS and t.id != confirm.id for t in s.open_tasks()
        ),
    )
    assert harness.fakes.calls["contribution_status"] == 3
    second = next(t for t in again.open_tasks() if t.kind is TaskKind.CONFIRM_CONTRIBUTIONS)
    await decide(handle, second)

    snap = await stage_is(handle, Stage.AWAITING_INITIATION)
    assert harness.fakes.calls["settle"] == 2  # no settlement repeated by the re-check
    settled = [t for t in snap.tasks if t.kind is TaskKind.SETTLE_CONTRIBUTIONS]
    assert all(t.status is TaskStatus.DONE and t.closed_by == EMPLOYER_ACTOR for t in settled)


async def test_without_an_employer_the_person_settles(harness: Harness) -> None:
    man = await retiree_from_now(harness, agency=True)
    retiree = man.person
    me = Actor(id=person_key(retiree.id_number, SECRET), role=Role.INDIVIDUAL)
    harness.fakes.add_person(retiree.id_number, retiree.name, problems=[ARREARS])
    handle = await harness.start(retiree, NORMAL, by=AGENCY_ACTOR)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)

    task = await open_task(handle, TaskKind.SETTLE_CONTRIBUTIONS)
    assert task.assignee is Assignee.INDIVIDUAL
    assert task.organisation is None
    assert task.due == check_due(man)

    # Another person cannot settle it.
    stranger = Actor(id="0" * 64, role=Role.INDIVIDUAL)
    await refused(settle(handle, task.id, stranger, "not mine"), RefusalType.FORBIDDEN)

    await settle(handle, task.id, me, "paid at the bank")
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    snap = await stage_is(handle, Stage.AWAITING_INITIATION)
    assert harness.fakes.calls["settle"] == 1
    done = next(t for t in snap.tasks if t.id == task.id)
    assert done.closed_by == me


async def test_no_contribution_record_goes_to_a_social_insurance_clerk(harness: Harness) -> None:
    retiree = (await retiree_from_now(harness)).person
    harness.fakes.add_person(retiree.id_number, retiree.name)
    del harness.fakes.contributions[retiree.id_number]  # the agency has no record of him
    handle = await harness.start(retiree, NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)

    # The refusal is final (no retries): a task for the social insurance clerk.
    issue = await open_task(handle, TaskKind.DEPARTMENT_ISSUE)
    assert issue.department is Department.SOCIAL_INSURANCE
    assert issue.step == "read the contribution record"
    assert issue.detail == "no contribution record"
    assert harness.fakes.calls["contribution_status"] == 1
    snap = await snapshot(handle)
    assert snap.stage is Stage.CONTRIBUTION_CHECK

    # Approving before the record is fixed only raises the issue again.
    await decide(handle, issue)
    second = await wait_for(
        handle,
        lambda s: any(
            t.kind is TaskKind.DEPARTMENT_ISSUE and t.id != issue.id for t in s.open_tasks()
        ),
    )
    assert harness.fakes.calls["contribution_status"] == 2
    reissued = next(t for t in second.open_tasks() if t.kind is TaskKind.DEPARTMENT_ISSUE)

    # The clerk restores the record (merged from an old ID number), then approves.
    harness.fakes.contributions[retiree.id_number] = Contributions()
    await decide(handle, reissued, evidence=["merge ticket SI-2026-1182"])
    confirm = await open_task(handle, TaskKind.CONFIRM_CONTRIBUTIONS)
    assert harness.fakes.calls["contribution_status"] == 3
    await decide(handle, confirm)
    await stage_is(handle, Stage.AWAITING_INITIATION)
