"""Clerks' inboxes and decisions; supervisors' escalation queue and reassignment."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import or_, update

from api.auth import Principal
from api.deps import (
    ApiContext,
    CaseIdPath,
    ContextDep,
    IdempotencyKey,
    PrincipalDep,
    SessionDep,
    TaskIdPath,
    require,
)
from api.idempotency import fingerprint, once, request_id
from api.problems import Problem, problems
from api.queries import InboxFilter, escalations, inbox, task_row
from api.schemas import AssignBody, DecisionBody, EscalationItem, InboxTask, Page, TaskClaim
from api.workflow_gateway import CaseFacts, audit, case_facts, refuse, row_facts, send
from contracts.people import Department, Role
from contracts.workflow import CaseStatus, Decision, Stage, TaskKind, TaskStatus
from db.models import TaskRow
from workflows.case import RetirementCase

router = APIRouter(tags=["tasks"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get(
    "/inbox",
    response_model=Page[InboxTask],
    summary="A clerk's inbox, by due date",
    responses=problems(401, 403, 422),
)
def get_inbox(
    db: SessionDep,
    who: PrincipalDep,
    status: TaskStatus = TaskStatus.OPEN,
    stage: Stage | None = None,
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
        stage=stage.value if stage else None,
        kind=kind.value if kind else None,
        due_before=due_before,
        escalated=escalated,
        claimed_by=who.subject if mine else None,
    )
    return inbox(db, where, limit, offset)


def _read_task(
    ctx: ApiContext, case_id: str, task_id: str
) -> tuple[CaseFacts | None, TaskRow | None]:
    """The case's facts and the task, in one session (one thread hop on the decision path)."""
    with ctx.read_sessions() as db:
        facts = row_facts(db, case_id)
        row = task_row(db, case_id, task_id)
        if row is not None:
            db.expunge(row)
        return facts, row


async def _task_facts(
    ctx: ApiContext, case_id: str, task_id: str
) -> tuple[CaseFacts, TaskRow | None]:
    projected, row = await asyncio.to_thread(_read_task, ctx, case_id, task_id)
    return await case_facts(ctx, case_id, projected), row


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
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
async def decide(
    case_id: CaseIdPath,
    task_id: TaskIdPath,
    body: DecisionBody,
    request: Request,
    ctx: ContextDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A reason is required for anything but approve. The decision reaches the case as a
    Temporal Update; the answer is the case's state after it."""
    facts, row = await _task_facts(ctx, case_id, task_id)
    actor = who.actor(at_counter=body.at_counter)
    action = f"decide-{row.kind}" if row is not None else "decide"
    reason = _clerk_may_act(who, facts, row)
    if reason is not None:
        problem = Problem(403, reason, "forbidden")
        raise await refuse(ctx, facts, actor, action, problem, target=task_id)
    rid = request_id(who, idempotency_key)
    try:
        decision = Decision(
            request_id=rid,
            task_id=task_id,
            outcome=body.outcome,
            reason=body.reason,
            evidence=body.evidence,
            actor=actor,
            deemed_years=body.deemed_years,
        )
    except ValidationError as exc:
        problem = Problem(422, exc.errors()[0]["msg"].removeprefix("Value error, "), "validation")
        raise await refuse(ctx, facts, actor, action, problem, target=task_id) from None

    counter = request.app.state.metrics.decisions
    department = row.department if row and row.department else "unknown"

    async def apply() -> tuple[int, Any]:
        try:
            status = await send(
                ctx, facts, actor, action, RetirementCase.decide, decision, rid, target=task_id
            )
        except Problem:
            counter.labels(department, body.outcome.value, "refused").inc()
            raise
        counter.labels(department, body.outcome.value, "accepted").inc()
        return 200, status

    path = f"/cases/{case_id}/tasks/{task_id}/decision"
    print_ = fingerprint("POST", path, body.model_dump(mode="json"))
    return await once(ctx.sessions, who, idempotency_key, print_, apply)


def _set_claim(
    ctx: ApiContext, who: Principal, row: TaskRow, claimant: str | None
) -> Problem | None:
    """Set ``claimed_by`` atomically; the conflict if the task is closed or someone else's."""
    conditions = [TaskRow.id == row.id, TaskRow.status == TaskStatus.OPEN.value]
    if who.role is Role.CLERK:
        # A clerk takes a free task or releases their own; supervisors may reassign any.
        conditions.append(or_(TaskRow.claimed_by.is_(None), TaskRow.claimed_by == who.subject))
    with ctx.sessions.begin() as db:
        changed = db.execute(
            update(TaskRow)
            .where(*conditions)
            .values(claimed_by=claimant, claimed_at=datetime.now(UTC) if claimant else None)
        )
        if changed.rowcount:  # type: ignore[attr-defined]
            return None
        current = db.get(TaskRow, row.id)
    if current is None or current.status != TaskStatus.OPEN.value:
        return Problem(409, "the task is no longer open", "task-closed")
    return Problem(409, f"the task is claimed by {current.claimed_by}", "task-claimed")


async def change_claim(
    ctx: ApiContext,
    who: Principal,
    case_id: str,
    task_id: str,
    claimant: str | None,
    action: str,
) -> TaskClaim:
    """Claim (``claimant`` the caller), release (None) or reassign a task, audited; the API's
    routes and the clerk's pages alike."""
    facts, row = await _task_facts(ctx, case_id, task_id)
    actor = who.actor()
    reason = _clerk_may_act(who, facts, row)
    if reason is None and action == "assign" and who.role is not Role.SUPERVISOR:
        reason = "only supervisors reassign tasks"
    if reason is not None:
        problem = Problem(403, reason, "forbidden")
        raise await refuse(ctx, facts, actor, action, problem, target=task_id)
    if row is None:
        raise Problem(404, "no such task (or not listed yet)", "unknown-task")
    conflict = await asyncio.to_thread(_set_claim, ctx, who, row, claimant)
    if conflict is not None:
        raise await refuse(ctx, facts, actor, action, conflict, target=task_id)
    detail = f"{task_id}: {claimant or 'released'}"
    await audit(ctx, case_id, actor, action, detail, "accepted")
    return TaskClaim(case_id=case_id, task_id=task_id, claimed_by=claimant)


@router.post(
    "/cases/{case_id}/tasks/{task_id}/claim",
    response_model=TaskClaim,
    summary="Claim a task",
    responses=problems(401, 403, 404, 409, 422, 503),
)
async def claim(
    case_id: CaseIdPath, task_id: TaskIdPath, ctx: ContextDep, who: PrincipalDep
) -> TaskClaim:
    return await change_claim(ctx, who, case_id, task_id, who.subject, "claim")


@router.post(
    "/cases/{case_id}/tasks/{task_id}/release",
    response_model=TaskClaim,
    summary="Release a task",
    responses=problems(401, 403, 404, 409, 422, 503),
)
async def release(
    case_id: CaseIdPath, task_id: TaskIdPath, ctx: ContextDep, who: PrincipalDep
) -> TaskClaim:
    return await change_claim(ctx, who, case_id, task_id, None, "release")


@router.post(
    "/cases/{case_id}/tasks/{task_id}/assignment",
    response_model=TaskClaim,
    summary="Reassign a task to a clerk (supervisors)",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
async def assign(
    case_id: CaseIdPath,
    task_id: TaskIdPath,
    body: AssignBody,
    ctx: ContextDep,
    who: PrincipalDep,
) -> TaskClaim:
    return await change_claim(ctx, who, case_id, task_id, body.clerk_id, "assign")


@router.get(
    "/escalations",
    response_model=Page[EscalationItem],
    summary="The escalation queue of open cases",
    responses=problems(401, 403, 422),
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
