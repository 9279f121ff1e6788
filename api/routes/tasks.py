"""Clerks' inboxes and decisions; supervisors' escalation queue and reassignment."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import or_, update

from api.auth import Principal
from api.cases import CaseFacts, case_facts, refuse, send
from api.deps import ApiContext, ContextDep, IdempotencyKey, PrincipalDep, SessionDep, require
from api.idempotency import fingerprint, once
from api.problems import Problem
from api.queries import InboxFilter, escalations, inbox, task_row
from api.schemas import AssignBody, DecisionBody, EscalationItem, InboxTask, Page, TaskClaim
from contracts.case import Department, Role
from contracts.workflow import CaseStatus, Decision, TaskKind, TaskStatus
from db.models import TaskRow
from workflows.case import RetirementCase

router = APIRouter(tags=["tasks"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/inbox", response_model=Page[InboxTask], summary="A clerk's inbox, by due date")
def get_inbox(
    db: SessionDep,
    who: PrincipalDep,
    status: TaskStatus = TaskStatus.OPEN,
    stage: str | None = None,
    kind: TaskKind | None = None,
    due_before: date | None = None,
    escalated: bool | None = None,
    mine: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[InboxTask]:
    """Tasks of the caller's department in the caller's region, earliest due first."""
    require(who, Role.CLERK, Role.SUPERVISOR)
    if who.department is None or who.region is None:  # the token check ensures both
        raise Problem(403, "the token names no department and region", "forbidden")
    where = InboxFilter(
        department=who.department.value,
        region=who.region,
        status=status.value,
        stage=stage,
        kind=kind.value if kind else None,
        due_before=due_before,
        escalated=escalated,
        claimed_by=who.subject if mine else None,
    )
    return inbox(db, where, limit, offset)


async def _task_facts(
    ctx: ApiContext, who: Principal, case_id: str, task_id: str
) -> tuple[CaseFacts, TaskRow | None]:
    facts = await case_facts(ctx, case_id)
    with ctx.sessions() as db:
        row = task_row(db, case_id, task_id)
        if row is not None:
            db.expunge(row)
    return facts, row


def _clerk_may_act(who: Principal, facts: CaseFacts, row: TaskRow | None) -> str | None:
    if who.role not in (Role.CLERK, Role.SUPERVISOR):
        return f"a {who.role} does not decide tasks"
    if not who.covers(facts.region_code):
        return f"the case is handled in region {facts.region_code}"
    if row is not None and row.department != (who.department.value if who.department else None):
        return f"the task belongs to {row.department}"
    return None


@router.post(
    "/cases/{case_id}/tasks/{task_id}/decision",
    response_model=CaseStatus,
    summary="Approve, reject, or return a task for correction",
)
async def decide(
    case_id: str,
    task_id: str,
    body: DecisionBody,
    request: Request,
    ctx: ContextDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A reason is required for anything but approve. The decision reaches the case as a
    Temporal Update; the answer is the case's state after it."""
    facts, row = await _task_facts(ctx, who, case_id, task_id)
    actor = who.actor(at_counter=body.at_counter)
    reason = _clerk_may_act(who, facts, row)
    if reason is not None:
        raise refuse(ctx, facts, actor, "decide", Problem(403, reason, "forbidden"))
    request_id = idempotency_key or uuid.uuid4().hex
    try:
        decision = Decision(
            request_id=request_id,
            task_id=task_id,
            outcome=body.outcome,
            reason=body.reason,
            evidence=body.evidence,
            actor=actor,
            deemed_years=body.deemed_years,
        )
    except ValidationError as exc:
        problem = Problem(422, exc.errors()[0]["msg"].removeprefix("Value error, "), "validation")
        raise refuse(ctx, facts, actor, "decide", problem) from None

    counter = request.app.state.metrics.decisions
    department = row.department if row and row.department else "unknown"

    async def apply() -> tuple[int, Any]:
        try:
            status = await send(
                ctx, facts, actor, "decide", RetirementCase.decide, decision, request_id
            )
        except Problem:
            counter.labels(department, body.outcome.value, "refused").inc()
            raise
        counter.labels(department, body.outcome.value, "accepted").inc()
        return 200, status

    path = f"/cases/{case_id}/tasks/{task_id}/decision"
    print_ = fingerprint("POST", path, body.model_dump(mode="json"))
    return await once(ctx.sessions, who, idempotency_key, print_, apply)


def _claim(
    db: SessionDep, who: Principal, facts: CaseFacts, row: TaskRow | None, claimant: str | None
) -> TaskClaim:
    if row is None:
        raise Problem(404, "no such task (or not listed yet)", "unknown-task")
    if row.status != TaskStatus.OPEN:
        raise Problem(409, f"the task is {row.status}", "task-closed")
    conditions = [TaskRow.id == row.id]
    if who.role is Role.CLERK:
        # A clerk takes a free task or releases their own; supervisors may reassign any.
        conditions.append(or_(TaskRow.claimed_by.is_(None), TaskRow.claimed_by == who.subject))
    changed = db.execute(
        update(TaskRow)
        .where(*conditions)
        .values(claimed_by=claimant, claimed_at=datetime.now(UTC) if claimant else None)
    )
    db.commit()
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        db.refresh(row)
        raise Problem(409, f"the task is claimed by {row.claimed_by}", "task-claimed")
    return TaskClaim(case_id=facts.case_id, task_id=row.task_id, claimed_by=claimant)


@router.post(
    "/cases/{case_id}/tasks/{task_id}/claim", response_model=TaskClaim, summary="Claim a task"
)
async def claim(
    case_id: str, task_id: str, ctx: ContextDep, who: PrincipalDep, db: SessionDep
) -> TaskClaim:
    facts, row = await _task_facts(ctx, who, case_id, task_id)
    reason = _clerk_may_act(who, facts, row)
    if reason is not None:
        raise Problem(403, reason, "forbidden")
    return _claim(db, who, facts, db.merge(row) if row else None, who.subject)


@router.post(
    "/cases/{case_id}/tasks/{task_id}/release", response_model=TaskClaim, summary="Release a task"
)
async def release(
    case_id: str, task_id: str, ctx: ContextDep, who: PrincipalDep, db: SessionDep
) -> TaskClaim:
    facts, row = await _task_facts(ctx, who, case_id, task_id)
    reason = _clerk_may_act(who, facts, row)
    if reason is not None:
        raise Problem(403, reason, "forbidden")
    return _claim(db, who, facts, db.merge(row) if row else None, None)


@router.post(
    "/cases/{case_id}/tasks/{task_id}/assignment",
    response_model=TaskClaim,
    summary="Reassign a task to a clerk (supervisors)",
)
async def assign(
    case_id: str,
    task_id: str,
    body: AssignBody,
    ctx: ContextDep,
    who: PrincipalDep,
    db: SessionDep,
) -> TaskClaim:
    require(who, Role.SUPERVISOR)
    facts, row = await _task_facts(ctx, who, case_id, task_id)
    reason = _clerk_may_act(who, facts, row)
    if reason is not None:
        raise Problem(403, reason, "forbidden")
    return _claim(db, who, facts, db.merge(row) if row else None, body.clerk_id)


@router.get(
    "/escalations",
    response_model=Page[EscalationItem],
    summary="The escalation queue of open cases",
)
def get_escalations(
    db: SessionDep,
    who: PrincipalDep,
    department: Department | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EscalationItem]:
    """Supervisors see their department's; administrators every department's (or one)."""
    require(who, Role.SUPERVISOR, Role.ADMIN)
    if who.role is Role.SUPERVISOR:
        if department is not None and department is not who.department:
            raise Problem(403, "supervisors see their own department's queue", "forbidden")
        department = who.department
    return escalations(db, who, department.value if department else None, limit, offset)
