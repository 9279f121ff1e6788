"""Initiation (发起) of the joint application: not before the window opens at T-1, not before the
contribution check is through, and only once.

A man born 1967-01: T = 2027-08, so the window opens on 2027-07-01 (China time) and is due by
2027-07-31.
"""

from __future__ import annotations

from datetime import date

from contracts.case import Actor, Department, Role
from contracts.workflow import Initiate, RefusalType, Stage, TaskKind, TaskStatus
from tests.workflows.conftest import (
    AGENCY_ACTOR,
    EMPLOYER_ACTOR,
    REGION,
    Harness,
    open_task,
    person,
    request_id,
    snapshot,
    stage_is,
)
from tests.workflows.helpers import NORMAL, Case, approve, china, refused
from workflows.case import RetirementCase

BORN = date(1967, 1, 15)


def initiate(actor: Actor = EMPLOYER_ACTOR, rid: str | None = None) -> Initiate:
    return Initiate(request_id=rid or request_id(), actor=actor)


async def through_the_contribution_check(handle: Case) -> None:
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)


async def test_not_during_pre_review(harness: Harness) -> None:
    handle = await harness.start(person(BORN), NORMAL)
    await open_task(handle, TaskKind.PRE_REVIEW)
    refusal = await refused(
        handle.execute_update(RetirementCase.initiate, initiate()), RefusalType.NOT_YET
    )
    assert refusal.message == (
        "the case is in pre-review: initiation follows the contribution check"
    )


async def test_not_before_the_window_opens_then_once(harness: Harness) -> None:
    handle = await harness.start(person(BORN), NORMAL)
    await through_the_contribution_check(handle)
    task = await open_task(handle, TaskKind.INITIATE)
    assert task.due == date(2027, 7, 31)

    # Through the check on 2026-11-28, but the window opens on 2027-07-01.
    refusal = await refused(
        handle.execute_update(RetirementCase.initiate, initiate()), RefusalType.NOT_YET
    )
    assert refusal.message == "the initiation window opens on 2027-07-01"

    # Half an hour before midnight in China (16:00 UTC) it is still 2027-06-30 there.
    await harness.sleep_until(china(date(2027, 6, 30), 23, 30))
    await refused(handle.execute_update(RetirementCase.initiate, initiate()), RefusalType.NOT_YET)

    # Half an hour after midnight in China it is 2027-07-01 there (still 06-30 in UTC).
    await harness.sleep_until(china(date(2027, 7, 1), 0, 30))
    # Not by another employer...
    other = Actor(id="x", role=Role.EMPLOYER, organisation="emp-jl-9999")
    await refused(
        handle.execute_update(RetirementCase.initiate, initiate(other)),
        RefusalType.WRONG_ORGANISATION,
    )
    # ...by his own.
    rid = request_id()
    status = await handle.execute_update(RetirementCase.initiate, initiate(rid=rid))
    assert status.stage is Stage.JOINT_HANDLING
    snap = await snapshot(handle)
    done = next(t for t in snap.tasks if t.id == task.id)
    assert (done.status, done.closed_by) == (TaskStatus.DONE, EMPLOYER_ACTOR)

    # A second initiation: the same request again is a duplicate, a new one is too late.
    await refused(
        handle.execute_update(RetirementCase.initiate, initiate(rid=rid)), RefusalType.DUPLICATE
    )
    refusal = await refused(
        handle.execute_update(RetirementCase.initiate, initiate()), RefusalType.WRONG_STAGE
    )
    assert refusal.message == "the case is already joint-handling"
    await open_task(handle, TaskKind.FORMAL_APPROVAL)
    snap = await snapshot(handle)
    assert [t.kind for t in snap.tasks].count(TaskKind.FORMAL_APPROVAL) == 1


async def test_an_hr_clerk_at_the_counter_initiates_for_a_person_without_an_employer(
    harness: Harness,
) -> None:
    # He cannot use the app; at the HR counter a clerk initiates on his behalf.
    handle = await harness.start(person(BORN, agency=True), NORMAL, by=AGENCY_ACTOR)
    await through_the_contribution_check(handle)
    await harness.sleep_until(china(date(2027, 7, 1), 9))

    online_clerk = Actor(id="hr-7", role=Role.CLERK, department=Department.HR, region=REGION)
    await refused(
        handle.execute_update(RetirementCase.initiate, initiate(online_clerk)),
        RefusalType.FORBIDDEN,
    )
    counter = online_clerk.model_copy(update={"at_counter": True})
    status = await handle.execute_update(RetirementCase.initiate, initiate(counter))
    assert status.stage is Stage.JOINT_HANDLING
    snap = await snapshot(handle)
    done = next(t for t in snap.tasks if t.kind is TaskKind.INITIATE)
    assert done.closed_by == counter
    assert any(e.actor == "clerk:hr-7@hr at the counter" for e in snap.events)
