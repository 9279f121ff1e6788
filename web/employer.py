"""The employer's and archive agency's pages (单位经办人): their cases with what each needs from
them, declaring a retiree, and a case's page where they initiate the joint application and
report a contribution problem settled. Every action goes through the API's own functions."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from api.auth import Principal
from api.problems import Problem
from api.queries import CaseFilter, open_party_tasks, search_cases
from api.routes.cases import declare, initiate, resubmit, settle
from api.routes.messages import case_messages
from api.schemas import InitiateBody, ResubmitBody, SettleBody
from contracts.people import Role
from contracts.workflow import Assignee, CaseSnapshot, Outcome, TaskKind, TaskStatus
from db.models import CaseRow
from domain.idcard import parse_id_number
from domain.months import YearMonth
from domain.timeline import CHINA_TZ
from web import csrf, session
from web.declaration_form import SPECIAL_ROWS, empty_form, read_form, read_resubmission
from web.rendering import (
    context_of,
    created_case_id,
    problem_key,
    refused,
    render,
    signin_first,
    viewable_case,
)

router = APIRouter(include_in_schema=False)

NOTICES = {"declared", "initiated", "settled", "resubmitted"}
NOTE_MAX = 2000


def _organisation(request: Request) -> Principal | Response:
    who = session.signed_in(request)
    if who is None:
        return signin_first(request)
    if who.role not in (Role.EMPLOYER, Role.AGENCY) or who.organisation is None:
        return refused(request, 403, "signin.title", "employer.staff_only")
    return who


@router.get("/employer", response_class=HTMLResponse, response_model=None)
async def cases_page(request: Request) -> Response:
    who = _organisation(request)
    if isinstance(who, Response):
        return who
    ctx = context_of(request)

    def read() -> tuple[Any, dict[str, list[str]]]:
        with ctx.read_sessions() as db:
            page = search_cases(db, CaseFilter(organisation=who.organisation), 200, 0)
            ids = [c.case_id for c in page.items]
            return page, open_party_tasks(db, ids, Assignee.ORGANISATION.value)

    page, needs = await asyncio.to_thread(read)
    return render(request, "employer_cases.html", page=page, needs=needs, org=who.organisation)


def _declare_page(
    request: Request, form: Any, status: int = 200, *, returned: Any = None
) -> HTMLResponse:
    """The declaration form; ``returned``: the case being corrected (its person is fixed, and
    the clerk's reason for returning it is shown)."""
    policy = context_of(request).policy
    return render(
        request,
        "employer_declare.html",
        status=status,
        form=form,
        key=uuid.uuid4().hex,
        rows=range(1, SPECIAL_ROWS + 1),
        months=policy.timeline.declaration_months_before,
        returned=returned,
        counter=False,
        action=f"/employer/cases/{returned.case_id}/resubmission"
        if returned
        else "/employer/declare",
    )


@router.get("/employer/declare", response_class=HTMLResponse, response_model=None)
def declare_page(request: Request) -> Response:
    who = _organisation(request)
    if isinstance(who, Response):
        return who
    return _declare_page(request, empty_form())


@router.post("/employer/declare", response_model=None)
async def declare_form(request: Request) -> Response:
    """Refuses what is wrong next to its field and keeps everything typed; sent twice (a double
    click, a reload), it declares once: the form's key is the request's idempotency key."""
    who = _organisation(request)
    if isinstance(who, Response):
        return who
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not csrf.valid(request, raw.get(csrf.FIELD)):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    ctx = context_of(request)
    form = read_form(raw, ctx.policy)
    key = raw.get("key", "")
    if not csrf.form_key_ok(key):
        form.refuse("form", "clerk.error_form")
    if form.errors or form.body is None:
        return _declare_page(request, form, status=400)
    try:
        answer = await declare(form.body, request, ctx, who, f"page-{key}")
    except Problem as problem:
        form.refuse("form", problem_key(problem))
        return _declare_page(request, form, status=problem.status)
    case_id = created_case_id(answer)
    return RedirectResponse(f"/employer/cases/{case_id}?notice=declared", status_code=303)


@router.get("/employer/cases/{case_id}", response_class=HTMLResponse, response_model=None)
async def case_page(
    request: Request,
    case_id: str,
    notice: Annotated[str | None, Query()] = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    who = _organisation(request)
    if isinstance(who, Response):
        return who
    snapshot = await viewable_case(request, who, case_id, "problem.wrong-organisation")
    if isinstance(snapshot, Response):
        return snapshot
    ours = [
        t
        for t in snapshot.tasks
        if t.status is TaskStatus.OPEN and t.assignee is Assignee.ORGANISATION
    ]
    box = await case_messages(case_id, context_of(request), who)
    return render(
        request,
        "employer_case.html",
        status=status,
        s=snapshot,
        ours=ours,
        box=box,
        notice=notice if notice in NOTICES else None,
        error=error,
        key=uuid.uuid4().hex,
        note_max=NOTE_MAX,
    )


async def _acted(
    request: Request, case_id: str, token: str | None, key: str, act: Any
) -> Response | None:
    """Run ``act`` for the signed-in organisation; the page to answer with if it could not."""
    who = _organisation(request)
    if isinstance(who, Response):
        return who
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    if not csrf.form_key_ok(key):
        return await case_page(request, case_id, error="clerk.error_form", status=400)
    try:
        await act(who, f"page-{key}")
    except Problem as problem:
        return await case_page(request, case_id, error=problem_key(problem), status=problem.status)
    except ValidationError:
        return await case_page(request, case_id, error="clerk.error_form", status=400)
    return None


@router.post("/employer/cases/{case_id}/initiation", response_model=None)
async def initiation(
    request: Request,
    case_id: str,
    key: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    ctx = context_of(request)

    async def act(who: Principal, idempotency: str) -> None:
        await initiate(case_id, ctx, who, InitiateBody(), idempotency)

    failed = await _acted(request, case_id, token, key, act)
    if failed is not None:
        return failed
    return RedirectResponse(f"/employer/cases/{case_id}?notice=initiated", status_code=303)


@router.post("/employer/cases/{case_id}/settlements", response_model=None)
async def settlement(
    request: Request,
    case_id: str,
    task_id: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    if len(note) > NOTE_MAX:
        return await case_page(request, case_id, error="employer.error_note", status=400)
    ctx = context_of(request)

    async def act(who: Principal, idempotency: str) -> None:
        body = SettleBody(task_id=task_id, note=note.strip())
        await settle(case_id, body, ctx, who, idempotency)

    failed = await _acted(request, case_id, token, key, act)
    if failed is not None:
        return failed
    return RedirectResponse(f"/employer/cases/{case_id}?notice=settled", status_code=303)


# ---- Correcting a returned declaration ------------------------------------------------------


async def _returned(request: Request, who: Principal, case_id: str) -> Any:
    """The case with an open correction task for the caller's organisation, or the page to
    answer instead."""
    snapshot = await viewable_case(request, who, case_id, "problem.wrong-organisation")
    if isinstance(snapshot, Response):
        return snapshot
    correcting = [
        t for t in snapshot.tasks if t.status is TaskStatus.OPEN and t.kind is TaskKind.CORRECT
    ]
    if not correcting:
        return refused(request, 409, "errors.action_title", "employer.nothing_to_correct")
    return snapshot


def _return_reason(snapshot: CaseSnapshot) -> str:
    returns = [d for d in snapshot.decisions if d.outcome is Outcome.RETURN]
    return (returns[-1].reason or "") if returns else ""


@router.get(
    "/employer/cases/{case_id}/resubmission", response_class=HTMLResponse, response_model=None
)
async def resubmission_page(request: Request, case_id: str) -> Response:
    who = _organisation(request)
    if isinstance(who, Response):
        return who
    snapshot = await _returned(request, who, case_id)
    if isinstance(snapshot, Response):
        return snapshot
    return _declare_page(request, empty_form(), returned=_Returned.of(snapshot))


@router.post("/employer/cases/{case_id}/resubmission", response_model=None)
async def resubmission(request: Request, case_id: str) -> Response:
    """The corrected declaration, checked as a new one is; sent twice, applied once."""
    who = _organisation(request)
    if isinstance(who, Response):
        return who
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not csrf.valid(request, raw.get(csrf.FIELD)):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    snapshot = await _returned(request, who, case_id)
    if isinstance(snapshot, Response):
        return snapshot
    ctx = context_of(request)

    def birth_month() -> YearMonth:
        with ctx.read_sessions() as db:
            number = db.scalar(select(CaseRow.id_number).where(CaseRow.case_id == case_id))
        return YearMonth.of(parse_id_number(number or "", datetime.now(CHINA_TZ).date()).birth_date)

    birth = await asyncio.to_thread(birth_month)
    form = read_resubmission(raw, ctx.policy, birth, snapshot.category)
    key = raw.get("key", "")
    if not csrf.form_key_ok(key):
        form.refuse("form", "clerk.error_form")
    returned = _Returned.of(snapshot)
    if form.errors or form.declaration is None:
        return _declare_page(request, form, status=400, returned=returned)
    try:
        await resubmit(case_id, ResubmitBody(declaration=form.declaration), ctx, who, f"page-{key}")
    except Problem as problem:
        form.refuse("form", problem_key(problem))
        return _declare_page(request, form, status=problem.status, returned=returned)
    return RedirectResponse(f"/employer/cases/{case_id}?notice=resubmitted", status_code=303)


@dataclass(frozen=True)
class _Returned:
    case_id: str
    person_name: str
    id_masked: str
    reason: str

    @classmethod
    def of(cls, snapshot: CaseSnapshot) -> _Returned:
        return cls(
            snapshot.case_id, snapshot.person_name, snapshot.id_masked, _return_reason(snapshot)
        )
