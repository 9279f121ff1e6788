"""Talking to a case's workflow from the API: facts for authorisation, updates, refusals.

Database calls from this async code run in a thread (``asyncio.to_thread``): on the event loop
they would block every other request, and on SQLite deadlock against a session that only the
blocked loop could close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal
from api.deps import ApiContext
from api.problems import Problem, refusal_problem
from api.queries import record_action
from api.timing import waiting_for_temporal
from contracts.case import Actor, Role
from contracts.workflow import CaseOutcome, CaseSnapshot, CaseStatus
from db.models import CaseRow
from db.read_model import stored_snapshot
from workflows.case import RetirementCase

CaseHandle = WorkflowHandle[RetirementCase, CaseOutcome]
T = TypeVar("T")


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
    """From the read model (``projected``, when the caller has read it already); a case created
    a moment ago may not be projected yet, so then ask the workflow itself. 404 when neither
    knows it."""
    facts = projected or await asyncio.to_thread(_row_facts, ctx, case_id)
    if facts is not None:
        return facts
    snapshot = await snapshot_of(ctx, case_id)
    return CaseFacts(
        case_id, snapshot.region_code, snapshot.organisation, "", snapshot.stage.terminal
    )


BUSY_FOR = 20.0  # seconds a query keeps asking a busy case before the API answers 503


async def ask(case: CaseHandle, query: Callable[[RetirementCase], T]) -> T:
    """A query, asked again while the case is busy. While a workflow task runs, Temporal holds
    one query per workflow for it and answers any other at once with RESOURCE_EXHAUSTED
    ("consistent query buffer is full") — e.g. a new case that two officers' requests both ask
    about before its first task is done. That is momentary: wait and ask again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUSY_FOR
    pause = 0.1
    while True:
        try:
            async with waiting_for_temporal():
                return await case.query(query)
        except RPCError as err:
            if err.status is not RPCStatusCode.RESOURCE_EXHAUSTED or loop.time() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)


async def snapshot_of(ctx: ApiContext, case_id: str) -> CaseSnapshot:
    """The case's progress from the read model, which the workflow writes before it answers
    any Update, so a caller sees its own change. Only a case started a moment ago and not yet
    projected is asked directly: a query costs the worker a workflow task, and one to a closed
    case (evicted from the worker's cache) replays its whole history — about 90 ms of the
    worker's CPU for each retiree looking at a finished case (docs/performance.md)."""
    projected = await asyncio.to_thread(stored_snapshot, ctx.read_sessions, case_id)
    if projected is not None:
        return projected
    try:
        return await ask(handle(ctx, case_id), RetirementCase.progress)
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
    raise Problem(404, f"no case {case_id}", "unknown-case")


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
    ctx: ApiContext, facts: CaseFacts, actor: Actor, action: str, problem: Problem
) -> Problem:
    """Record a refused attempt in the audit log and hand the problem back to raise."""
    await audit(ctx, facts.case_id, actor, action, problem.detail, f"refused {problem.status}")
    return problem


async def send(
    ctx: ApiContext,
    facts: CaseFacts,
    actor: Actor,
    action: str,
    update: Any,
    request: Any,
    update_id: str,
) -> CaseStatus:
    """Send an Update; a validator's refusal becomes its HTTP problem (and an audit entry)."""
    try:
        async with waiting_for_temporal():
            result: CaseStatus = await handle(ctx, facts.case_id).execute_update(
                update, request, id=update_id
            )
        return result
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        problem = (
            refusal_problem(cause)
            if isinstance(cause, ApplicationError)
            else Problem(422, str(cause or err))
        )
        raise await refuse(ctx, facts, actor, action, problem) from None
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        if facts.closed or facts.person_key:
            closed = Problem(409, "the case is closed", "case-closed")
            raise await refuse(ctx, facts, actor, action, closed) from None
        raise Problem(404, f"no case {facts.case_id}", "unknown-case") from None
