"""Small steps the workflow stories share: deciding a task, expecting a refusal, the clock."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from decimal import Decimal

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from contracts.declarations import Declaration
from contracts.people import Actor, Department
from contracts.read_model import Answer
from contracts.workflow import (
    CaseOutcome,
    Decision,
    Initiate,
    Outcome,
    RefusalType,
    Stage,
    Task,
    TaskKind,
)
from domain.timeline import CHINA_TZ
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    Harness,
    clerk,
    open_task,
    request_id,
    stage_is,
)
from workflows.case import RetirementCase

Case = WorkflowHandle[RetirementCase, CaseOutcome]

NORMAL = Declaration(contribution_years=Decimal(30))


def china(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in China Standard Time (UTC+8), where the case's dates are local dates."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TZ)


def to_the_minute(at: datetime) -> datetime:
    """``at`` in China time without seconds: timers fire a few milliseconds after their mark."""
    return at.astimezone(CHINA_TZ).replace(second=0, microsecond=0)


async def decide(
    handle: Case,
    task: Task,
    outcome: Outcome = Outcome.APPROVE,
    *,
    actor: Actor | None = None,
    reason: str | None = None,
    evidence: list[str] | None = None,
    deemed_years: Decimal | None = None,
    rid: str | None = None,
    update_id: str | None = None,
) -> Answer:
    """A clerk of the task's department (unless ``actor`` says otherwise) decides ``task``."""
    if actor is None:
        assert task.department is not None, f"{task.kind} is not a clerk's task"
        actor = clerk(task.department)
    decision = Decision(
        request_id=rid or request_id(),
        task_id=task.id,
        outcome=outcome,
        reason=reason,
        evidence=evidence or [],
        actor=actor,
        deemed_years=deemed_years,
    )
    return await handle.execute_update(RetirementCase.decide, decision, id=update_id)


async def approve(handle: Case, kind: TaskKind, department: Department | None = None) -> Task:
    """Wait until a task of ``kind`` is open and approve it as its department's clerk."""
    task = await open_task(handle, kind)
    assert department is None or task.department is department
    await decide(handle, task)
    return task


async def refused(call: Awaitable[object], kind: RefusalType) -> ApplicationError:
    """The update is refused by its validator with ``kind``; returns the refusal to inspect."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == kind.value, f"{cause.type}: {cause.message}"
    return cause


async def accepted_update_ids(handle: Case) -> list[str]:
    """The ids of every update the workflow accepted, in history order."""
    history = await handle.fetch_history()
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]


async def to_joint_handling(harness: Harness, handle: Case, *, window_opens: date) -> Task:
    """Pre-review and the contribution check approved, the clock at 10:00 China time on the day
    the initiation window opens (the first day of T-1), the employer initiates. Returns the
    formal approval task now open."""
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)
    await harness.sleep_until(china(window_opens, 10))
    await handle.execute_update(
        RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
    )
    return await open_task(handle, TaskKind.FORMAL_APPROVAL)
