"""Initiation (发起) of the joint application: not before the window opens at T-1, not before the
contribution check is through, and only once.

A man whose statutory month T is about nine months after the test starts: the window opens on
the first day of T-1 (China time) and the initiation is due by its last day.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from contracts.people import Actor, Department, Role
from contracts.workflow import Initiate, RefusalType, Stage, TaskKind, TaskStatus
from tests.workflows.conftest import (
    AGENCY_ACTOR,
    EMPLOYER_ACTOR,
    REGION,
    Harness,
    open_task,
    request_id,
    snapshot,
    stage_is,
)
from tests.workflows.helpers import NORMAL, Case, approve, china, refused
from tests.workflows.people import retiree_from_now
from workflows.case import RetirementCase


def initiate(actor: Actor = EMPLOYER_ACTOR, rid: str | None = None) -> Initiate:
    return Initiate(request_id=rid or request_id(), actor=actor)


async def through_the_contribution_check(handle: Case) -> None:
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)


async def test_not_during_pre_review(harness: Harness) -> None:
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    await open_task(handle, TaskKind.PRE_REVIEW)
    refusal = await refused(
        handle.execute_update(RetirementCase.initiate, initiate()), RefusalType.NOT_YET
    )
    assert refusal.message == (
        "the case is in pre-review: initiation follows the contribution check"
    )


async def test_not_before_the_window_opens_then_once(harness: Harness) -> None:
    man = await retiree_from_now(harness)
    opens, due = man.t.minus(1).first_day(), man.t.minus(1).last_day()  # the month T-1
    assert (opens, due) == (man.timeline.initiation_opens, man.timeline.initiation_due)
    handle = await harness.start(man.person, NORMAL)
    await through_the_contribution_check(handle)
    task = await open_task(handle, TaskKind.INITIATE)
    assert task.due == due

    # Through the check at the start, months before the window opens.
    assert await harness.today() < opens
    refusal = await refused(
        handle.execute_update(RetirementCase.initiate, initiate()), RefusalType.NOT_YET
    )
    assert refusal.message == f"the initiation window opens on {opens}"

    # Half an hour before midnight in China (15:30 UTC) it is still the last day of T-2 there.
    eve = opens - timedelta(days=1)
    await harness.sleep_until(china(eve, 23, 30))
    await refused(handle.execute_update(RetirementCase.initiate, initiate()), RefusalType.NOT_YET)

    # Half an hour after midnight in China it is the first day of T-1 there (still the day
    # before in UTC).
    moment = china(opens, 0, 30)
    assert moment.astimezone(UTC).date() == eve
    await harness.sleep_until(moment)
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
    assert refusal.message == "the case has been initiated (stage: joint-handling)"
    await open_task(handle, TaskKind.FORMAL_APPROVAL)
    snap = await snapshot(handle)
    assert [t.kind for t in snap.tasks].count(TaskKind.FORMAL_APPROVAL) == 1


async def test_an_hr_clerk_at_the_counter_initiates_for_a_person_without_an_employer(
    harness: Harness,
) -> None:
    # He cannot use the app; at the HR counter a clerk initiates on his behalf.
    man = await retiree_from_now(harness, agency=True)
    handle = await harness.start(man.person, NORMAL, by=AGENCY_ACTOR)
    await through_the_contribution_check(handle)
    await harness.sleep_until(china(man.timeline.initiation_opens, 9))

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
