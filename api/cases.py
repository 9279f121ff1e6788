"""Talking to a case's workflow from the API: facts for authorisation, updates, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal
from api.deps import ApiContext
from api.problems import Problem, refusal_problem
from api.queries import record_refusal
from contracts.case import Actor, Role
from contracts.workflow import CaseOutcome, CaseSnapshot, CaseStatus
from db.models import CaseRow
from workflows.case import RetirementCase

CaseHandle = WorkflowHandle[RetirementCase, CaseOutcome]


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


async def case_facts(ctx: ApiContext, case_id: str) -> CaseFacts:
    """From the read model; a case created a moment ago may not be projected yet, so then ask
    the workflow itself. 404 when neither knows it."""
    with ctx.sessions() as db:
        row = db.get(CaseRow, case_id)
        if row is not None:
            return CaseFacts(
                case_id,
                row.region_code,
                row.organisation,
                row.person_key,
                row.closed_at is not None,
            )
    snapshot = await snapshot_of(ctx, case_id)
    return CaseFacts(
        case_id, snapshot.region_code, snapshot.organisation, "", snapshot.stage.terminal
    )


async def snapshot_of(ctx: ApiContext, case_id: str) -> CaseSnapshot:
    try:
        return await handle(ctx, case_id).query(RetirementCase.progress)
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            with ctx.sessions() as db:
                row = db.get(CaseRow, case_id)
                if row is not None:  # closed and dropped by retention: the read model keeps it
                    return CaseSnapshot.model_validate(row.snapshot)
            raise Problem(404, f"no case {case_id}", "unknown-case") from None
        raise


def may_view(who: Principal, facts: CaseFacts) -> bool:
    if who.role in (Role.EMPLOYER, Role.AGENCY):
        return who.organisation == facts.organisation
    if who.role is Role.INDIVIDUAL:
        return who.person_key is not None and who.person_key == facts.person_key
    return who.covers(facts.region_code)


def refuse(
    ctx: ApiContext, facts: CaseFacts, actor: Actor, action: str, problem: Problem
) -> Problem:
    """Record a refused attempt in the audit log and hand the problem back to raise."""
    with ctx.sessions.begin() as db:
        record_refusal(
            db, facts.case_id, actor, action, problem.detail, f"refused {problem.status}"
        )
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
        result: CaseStatus = await handle(ctx, facts.case_id).execute_update(
            update, request, id=update_id
        )
        return result
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            raise refuse(ctx, facts, actor, action, refusal_problem(cause)) from None
        raise refuse(ctx, facts, actor, action, Problem(422, str(cause or err))) from None
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            if facts.closed or facts.person_key:
                raise refuse(
                    ctx, facts, actor, action, Problem(409, "the case is closed", "case-closed")
                ) from None
            raise Problem(404, f"no case {facts.case_id}", "unknown-case") from None
        raise
