"""The clerk's pages (经办人员): the inbox of their department and region by due date, claiming
and releasing, a case with its audit trail, and the decision form that says beforehand what the
decision will do. Every action goes through the API's own functions (the same checks, audit and
idempotency); a counter clerk acting for a person ticks "at the counter" and the record says so.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.auth import Principal
from api.problems import Problem
from api.queries import InboxFilter, audit_trail, inbox
from api.routes.messages import case_messages
from api.routes.tasks import change_claim, decide
from api.schemas import DecisionBody
from contracts.people import Department, Role
from contracts.workflow import CaseSnapshot, Outcome, Task, TaskKind, TaskStatus
from domain.timeline import CHINA_TZ
from web import csrf, session
from web.rendering import (
    context_of,
    local_path,
    problem_key,
    problem_page,
    refused,
    render,
    signin_first,
    viewable_case,
)

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
REASON_MAX = 2000
# What a redirect may ask the next page to say (``?notice=``): nothing else is shown.
NOTICES = {"claimed", "released", "decided", "declared", "counter"}


def _staff(request: Request) -> Principal | Response:
    """The signed-in clerk or supervisor, or the page to send anyone else to."""
    who = session.signed_in(request)
    if who is None:
        return signin_first(request)
    if who.role not in (Role.CLERK, Role.SUPERVISOR) or None in (who.department, who.region):
        return refused(request, 403, "signin.title", "clerk.staff_only")
    return who


def _notice(value: str | None) -> str | None:
    return value if value in NOTICES else None


def _today() -> date:
    return datetime.now(CHINA_TZ).date()


@router.get("/clerk", response_class=HTMLResponse, response_model=None)
async def inbox_page(
    request: Request,
    kind: Annotated[str, Query()] = "",
    mine: Annotated[bool, Query()] = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    notice: Annotated[str | None, Query()] = None,
) -> Response:
    who = _staff(request)
    if isinstance(who, Response):
        return who
    department, region = who.department.value if who.department else "", who.region or ""
    chosen_kind = kind if kind in {k.value for k in TaskKind} else ""
    where = InboxFilter(
        department=department,
        region=region,
        kind=chosen_kind or None,
        claimed_by=who.subject if mine else None,
    )
    ctx = context_of(request)

    def read() -> Any:
        with ctx.read_sessions() as db:
            return inbox(db, where, PAGE_SIZE, (page - 1) * PAGE_SIZE)

    found = await asyncio.to_thread(read)
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render(
        request,
        "clerk_inbox.html",
        staff=who,
        tasks=found.items,
        total=found.total,
        page=page,
        pages=pages,
        kind=chosen_kind,
        kinds=[k.value for k in TaskKind if k.clerk_task is not None],
        mine=mine,
        today=_today(),
        notice=_notice(notice),
    )


async def _claim_form(
    request: Request, case_id: str, task_id: str, back: str, token: str | None, claim: bool
) -> Response:
    who = _staff(request)
    if isinstance(who, Response):
        return who
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    try:
        await change_claim(
            context_of(request),
            who,
            case_id,
            task_id,
            who.subject if claim else None,
            "claim" if claim else "release",
        )
    except Problem as problem:
        return problem_page(request, problem)
    target = local_path(back).split("?")[0]
    notice = "claimed" if claim else "released"
    return RedirectResponse(f"{target}?notice={notice}", status_code=303)


@router.post("/clerk/claim", response_model=None)
async def claim(
    request: Request,
    case_id: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
    back: Annotated[str, Form(alias="next")] = "/clerk",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    return await _claim_form(request, case_id, task_id, back, token, claim=True)


@router.post("/clerk/release", response_model=None)
async def release(
    request: Request,
    case_id: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
    back: Annotated[str, Form(alias="next")] = "/clerk",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    return await _claim_form(request, case_id, task_id, back, token, claim=False)


# ---- A case, and deciding its tasks --------------------------------------------------------


async def _case_page(
    request: Request,
    who: Principal,
    case_id: str,
    *,
    status: int = 200,
    notice: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    snapshot = await viewable_case(request, who, case_id, "clerk.not_your_case")
    if isinstance(snapshot, Response):
        return snapshot
    ctx = context_of(request)

    def read() -> Any:
        with ctx.read_sessions() as db:
            return audit_trail(db, case_id)

    trail = await asyncio.to_thread(read)
    box = await case_messages(case_id, ctx, who)
    mine = _my_tasks(who, snapshot)
    shown: dict[str, Any] = {"task_id": "", "outcome": "", "reason": "", "at_counter": False}
    shown |= form or {}
    errors: dict[str, str] = shown.get("errors", {})
    if errors and shown["task_id"] not in {t.id for t in mine}:
        # The task has no form on this page (decided meanwhile, or not this department's): say
        # what was wrong above the forms instead of beside a field that is not there.
        errors = {"form": next(iter(errors.values()))}
    shown["errors"] = errors
    return render(
        request,
        "clerk_case.html",
        status=status,
        staff=who,
        s=snapshot,
        mine=mine,
        counter_tasks=_counter_tasks(who, snapshot),
        trail=trail,
        box=box,
        today=_today(),
        notice=_notice(notice),
        form=shown,
        new_key=uuid.uuid4().hex,
        reason_max=REASON_MAX,
    )


def _counter_tasks(who: Principal, snapshot: CaseSnapshot) -> list[Task]:
    """What an HR clerk may do for the person at the counter: initiate, report a settlement."""
    if who.role is not Role.CLERK or who.department is not Department.HR:
        return []
    return [
        t
        for t in snapshot.tasks
        if t.status is TaskStatus.OPEN
        and t.kind in (TaskKind.INITIATE, TaskKind.SETTLE_CONTRIBUTIONS)
    ]


def _my_tasks(who: Principal, snapshot: CaseSnapshot) -> list[Task]:
    """The open tasks the caller's department decides on this case."""
    return [
        t for t in snapshot.tasks if t.status is TaskStatus.OPEN and t.department is who.department
    ]


@router.get("/clerk/cases/{case_id}", response_class=HTMLResponse, response_model=None)
async def case_page(
    request: Request, case_id: str, notice: Annotated[str | None, Query()] = None
) -> Response:
    who = _staff(request)
    if isinstance(who, Response):
        return who
    return await _case_page(request, who, case_id, notice=notice)


@router.post("/clerk/cases/{case_id}/tasks/{task_id}/decision", response_model=None)
async def decision(
    request: Request,
    case_id: str,
    task_id: str,
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    at_counter: Annotated[bool, Form()] = False,
    key: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    """Refuses bad input next to its field, keeping what the clerk wrote; a form sent twice
    (a double click, a reload) is applied once: its key is the request's idempotency key."""
    who = _staff(request)
    if isinstance(who, Response):
        return who
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    form = {"task_id": task_id, "outcome": outcome, "reason": reason, "at_counter": at_counter}
    errors: dict[str, str] = {}
    if outcome not in {o.value for o in Outcome}:
        errors["outcome"] = "clerk.error_outcome"
    elif outcome != Outcome.APPROVE and not reason.strip():
        errors["reason"] = "clerk.error_reason_needed"
    if len(reason) > REASON_MAX:
        errors["reason"] = "clerk.error_reason_long"
    if not csrf.form_key_ok(key):
        errors["form"] = "clerk.error_form"
    if errors:
        form["errors"] = errors
        return await _case_page(request, who, case_id, status=400, form=form)
    try:
        body = DecisionBody(
            outcome=Outcome(outcome), reason=reason.strip() or None, at_counter=at_counter
        )
    except ValidationError:
        form["errors"] = {"reason": "clerk.error_reason_characters"}
        return await _case_page(request, who, case_id, status=400, form=form)
    ctx = context_of(request)
    try:
        await decide(case_id, task_id, body, request, ctx, who, key)
    except Problem as problem:
        form["errors"] = {"form": problem_key(problem)}
        return await _case_page(request, who, case_id, status=problem.status, form=form)
    return RedirectResponse(f"/clerk/cases/{case_id}?notice=decided", status_code=303)
