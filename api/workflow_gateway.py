"""Talking to a case's workflow from the API: facts for authorisation, updates, refusals.

The API never queries a case's workflow: everything it reads comes from the read model, which
shows only what a completed workflow task committed (docs/reliability.md).

Database calls from this async code run in a thread (``asyncio.to_thread``): on the event loop
they would block every other request, and on SQLite deadlock against a session that only the
blocked loop could close.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal
from api.deps import ApiContext
from api.problems import Problem, refusal_problem
from api.queries import record_action
from api.timing import waiting_for_temporal
from contracts.people import Actor, Role
from contracts.read_model import Answer
from contracts.workflow import CaseSnapshot, CaseStatus
from db.models import CaseRow
from db.read_model import DatabaseReadModel, stored_snapshot, stored_version
from service.case_start import CaseHandle
from workflows.case import RetirementCase


@dataclass(frozen=True)
class CaseFacts:
    """What authorisation needs to know of a case."""

    case_id: str
    region_code: str
    organisation: str
    person_key: str
    closed: bool


def handle(ctx: ApiContext, case_id: str) -> CaseHandle:
    return ctx.client.get_workflow_handle_for(RetirementCase.run, case_id)


def row_facts(db: Session, case_id: str) -> CaseFacts | None:
    """The facts of a case as the read model has them (``None``: not projected yet). Only these
    columns: the row also holds the case's whole snapshot as JSON, which took most of a
    decision's own time in the API to load and parse."""
    row = db.execute(
        select(
            CaseRow.region_code, CaseRow.organisation, CaseRow.person_key, CaseRow.closed_at
        ).where(CaseRow.case_id == case_id)
    ).one_or_none()
    if row is None:
        return None
    region_code, organisation, key, closed_at = row
    return CaseFacts(case_id, region_code, organisation, key, closed_at is not None)


def _row_facts(ctx: ApiContext, case_id: str) -> CaseFacts | None:
    with ctx.read_sessions() as db:
        return row_facts(db, case_id)


async def case_facts(
    ctx: ApiContext, case_id: str, projected: CaseFacts | None = None
) -> CaseFacts:
    """From the read model (``projected``, when the caller has read it already). A case started
    a moment ago may not be projected yet: then wait for its first projection (never ask the
    workflow, docs/reliability.md). 404 when Temporal does not know the case either."""
    facts = projected or await asyncio.to_thread(_row_facts, ctx, case_id)
    if facts is not None:
        return facts
    await _first_projection(ctx, case_id)
    facts = await asyncio.to_thread(_row_facts, ctx, case_id)
    if facts is None:  # deleted meanwhile: never in practice
        raise Problem(404, f"no case {case_id}", "unknown-case")
    return facts


# How long a request waits for the read model to show a change the workflow has committed
# (the projection is an activity, run right after the workflow task): normally tens of
# milliseconds; longer only while the workers are down or saturated.
PROJECTION_WAIT = 10.0
NOT_PROJECTED = Problem(
    503,
    "the case has just changed and is not readable yet; retry (with the same Idempotency-Key)",
    "not-projected-yet",
    retry_after=2,
)


async def until_projected(ctx: ApiContext, case_id: str, version: int) -> bool:
    """Wait until the read model holds ``version`` of the case or later, so a caller reads its
    own change; whether it did within :data:`PROJECTION_WAIT`. Counted as time waiting for
    Temporal: it is the workflow's projection the request waits for."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROJECTION_WAIT
    pause = 0.005
    async with waiting_for_temporal():
        while True:
            stored = await asyncio.to_thread(stored_version, ctx.read_sessions, case_id)
            if stored is not None and stored >= version:
                return True
            if loop.time() > deadline:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)


async def _first_projection(ctx: ApiContext, case_id: str) -> None:
    """A case unknown to the read model: 404 if Temporal does not know it either, else wait
    for its first projection (503 when it does not come in time)."""
    try:
        async with waiting_for_temporal():
            await handle(ctx, case_id).describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise Problem(404, f"no case {case_id}", "unknown-case") from None
        raise
    if not await until_projected(ctx, case_id, 0):
        raise NOT_PROJECTED


async def snapshot_of(ctx: ApiContext, case_id: str) -> CaseSnapshot:
    """The case's progress, from the read model: it shows only what the workflow has committed,
    and reading it costs the worker nothing (a query to a closed case replayed its whole
    history, about 90 ms of the worker's CPU, docs/performance.md)."""
    projected = await asyncio.to_thread(stored_snapshot, ctx.read_sessions, case_id)
    if projected is None:
        await _first_projection(ctx, case_id)
        projected = await asyncio.to_thread(stored_snapshot, ctx.read_sessions, case_id)
    if projected is None:
        raise Problem(404, f"no case {case_id}", "unknown-case")
    return projected


def may_view(who: Principal, facts: CaseFacts) -> bool:
    if who.role in (Role.EMPLOYER, Role.AGENCY):
        return who.organisation == facts.organisation
    if who.role is Role.INDIVIDUAL:
        return who.person_key is not None and who.person_key == facts.person_key
    return who.covers(facts.region_code)


async def audit(
    ctx: ApiContext, case_id: str, actor: Actor, action: str, detail: str, result: str
) -> None:
    """An action the API decides itself (a refusal, a claim) into the case's audit log."""

    def write() -> None:
        with ctx.sessions.begin() as db:
            record_action(db, case_id, actor, action, detail, result)

    await asyncio.to_thread(write)


async def refuse(
    ctx: ApiContext,
    facts: CaseFacts,
    actor: Actor,
    action: str,
    problem: Problem,
    *,
    target: str | None = None,
) -> Problem:
    """Record a refused attempt in the audit log, naming the task it targeted (``target``), and
    hand the problem back to raise."""
    detail = f"{target}: {problem.detail}" if target else problem.detail
    await audit(ctx, facts.case_id, actor, action, detail, f"refused {problem.status}")
    return problem


async def send(
    ctx: ApiContext,
    facts: CaseFacts,
    actor: Actor,
    action: str,
    update: Any,
    request: Any,
    update_id: str,
    *,
    target: str | None = None,
) -> CaseStatus:
    """Send an Update; a validator's refusal becomes its HTTP problem (and an audit entry naming
    the task the update targeted, ``target``)."""
    try:
        async with waiting_for_temporal():
            answer: Answer = await handle(ctx, facts.case_id).execute_update(
                update, request, id=update_id
            )
        # The change is committed: the answer carries it, and what the caller reads next
        # includes it. An answer recorded before answers carried their projection: wait
        # (bounded) for the workflow's.
        if answer.projection is not None:
            await asyncio.to_thread(DatabaseReadModel(ctx.sessions).project, answer.projection)
        else:
            await until_projected(ctx, facts.case_id, answer.version)
        return CaseStatus(**{name: getattr(answer, name) for name in CaseStatus.model_fields})
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        problem = (
            refusal_problem(cause)
            if isinstance(cause, ApplicationError)
            else Problem(422, str(cause or err))
        )
        raise await refuse(ctx, facts, actor, action, problem, target=target) from None
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        if facts.closed or facts.person_key:
            closed = Problem(409, "the case is closed", "case-closed")
            raise await refuse(ctx, facts, actor, action, closed, target=target) from None
        raise Problem(404, f"no case {facts.case_id}", "unknown-case") from None
