"""When a case writes the read model (``workflows.projection``): at once when someone can act,
otherwise once the case has settled, and through an Update's answer (``Answer``)."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal

from temporalio.api.enums.v1 import EventType

from contracts.declarations import Declaration
from contracts.people import Department
from contracts.read_model import Answer
from contracts.workflow import TaskKind
from tests.workflows.conftest import (
    Harness,
    open_task,
    snapshot,
)
from tests.workflows.fakes import Fund
from tests.workflows.helpers import Case, approve, decide, to_joint_handling
from tests.workflows.people import retiree_from_now


async def _projected_open(harness: Harness, case_id: str, kind: TaskKind) -> bool:
    """Whether the read model shows an open task of ``kind`` within 10 s."""
    for _ in range(200):
        projection = harness.fakes.projections.get(case_id)
        if projection and any(t.kind is kind for t in projection.snapshot.open_tasks()):
            return True
        await asyncio.sleep(0.05)
    return False


async def _initiated(harness: Harness) -> Case:
    """A case whose employer has just initiated the joint application (``to_joint_handling``)."""
    man = await retiree_from_now(harness, months_ahead=2)
    harness.fakes.add_person(man.person.id_number, man.person.name, fund=Fund())
    handle = await harness.start(man.person, Declaration(contribution_years=Decimal(30)))
    await to_joint_handling(harness, handle, window_opens=man.timeline.initiation_opens)
    return handle


async def test_a_task_that_opens_while_another_department_works_is_shown_at_once(
    harness: Harness,
) -> None:
    """Social insurance's step is still running (its system slow, or down and retried for
    hours) while medical security's clerk already has a task: the read model shows the task
    then, not when the slow step ends."""
    held = threading.Event()
    harness.fakes.holds["switch_to_retiree"] = held
    try:
        handle = await _initiated(harness)
        await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
        await open_task(handle, TaskKind.CONFIRM_MEDICAL_YEARS)
        assert harness.fakes.calls["switch_to_retiree"] == 1 and not held.is_set()
        assert await _projected_open(harness, handle.id, TaskKind.CONFIRM_MEDICAL_YEARS)
    finally:
        held.set()


async def test_an_answer_carries_the_committed_change_and_the_case_projects_once_settled(
    harness: Harness,
) -> None:
    handle = await _initiated(harness)
    task = await open_task(handle, TaskKind.FORMAL_APPROVAL)
    answer = await decide(handle, task)
    assert isinstance(answer, Answer) and answer.projection is not None
    shown = answer.projection.snapshot
    assert shown.version == answer.version
    assert not any(t.id == task.id for t in shown.open_tasks())
    assert any(e.action == f"decide-{task.kind}" for e in answer.projection.audit)

    for kind, department in (
        (TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE),
        (TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL),
        (TaskKind.FUND_WITHDRAWAL, Department.PROVIDENT_FUND),
    ):
        await approve(handle, kind, department)
    await handle.result()
    final = await snapshot(handle)
    assert harness.fakes.projections[handle.id].snapshot.version == final.version
    # Each burst of changes is written once: 11 writes for this case's 93 versions when this
    # was written, 23 when every version was written as soon as the last write ended.
    projections = harness.fakes.calls["project"]
    assert projections <= 15, f"{projections} writes for {final.version} versions"


async def test_the_timer_is_not_cancelled_for_a_deadline_that_moved_later(
    harness: Harness,
) -> None:
    """A decided task's deadline goes away and the next is later: the armed timer is kept (it
    fires, finds nothing due, and is armed again), not cancelled and restarted at each step."""
    handle = await _initiated(harness)
    for kind, department in (
        (TaskKind.FORMAL_APPROVAL, Department.HR),
        (TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE),
        (TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL),
        (TaskKind.FUND_WITHDRAWAL, Department.PROVIDENT_FUND),
    ):
        await approve(handle, kind, department)
    await handle.result()
    history = await handle.fetch_history()
    fires_at = {}  # timer id -> when it would fire
    cancelled_at = None  # when the timer cancelled in this workflow task would have fired
    rearmed = []
    for e in history.events:
        event_type = e.event_type
        if event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            started = e.timer_started_event_attributes
            fires = e.event_time.ToDatetime() + started.start_to_fire_timeout.ToTimedelta()
            fires_at[started.timer_id] = fires
            if cancelled_at is not None:
                rearmed.append((cancelled_at, fires))
        elif event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            cancelled_at = fires_at[e.timer_canceled_event_attributes.timer_id]
        elif event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            cancelled_at = None
    assert rearmed, "no timer was re-armed: the story no longer tests anything"
    for was, now in rearmed:
        assert now < was, f"cancelled a timer for {was} to arm one for the later {now}"
