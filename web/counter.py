"""The offline counter (线下综窗): an HR clerk acts for a person who cannot use the online
channel, from the same pages: declares for them (naming their employer or archive agency),
initiates the joint application, reports a contribution problem settled. The API records each
action as made at the counter; the person's case shows it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from api.auth import Principal
from api.problems import Problem
from api.routes.cases import declare, initiate, settle
from api.schemas import InitiateBody, SettleBody
from contracts.base import Identifier
from contracts.people import Department, Role
from web import csrf, session
from web.declaration_form import SPECIAL_ROWS, empty_form, read_form
from web.rendering import (
    context_of,
    created_case_id,
    problem_key,
    problem_page,
    refused,
    render,
    signin_first,
)

router = APIRouter(include_in_schema=False)

_ORGANISATION: TypeAdapter[str] = TypeAdapter(Identifier)


def _counter_clerk(request: Request) -> Principal | Response:
    who = session.signed_in(request)
    if who is None:
        return signin_first(request)
    if who.role is not Role.CLERK or who.department is not Department.HR:
        return refused(request, 403, "signin.title", "counter.hr_only")
    return who


def _page(request: Request, form: Any, status: int = 200) -> HTMLResponse:
    return render(
        request,
        "employer_declare.html",
        status=status,
        form=form,
        key=uuid.uuid4().hex,
        rows=range(1, SPECIAL_ROWS + 1),
        months=context_of(request).policy.timeline.declaration_months_before,
        returned=None,
        counter=True,
        action="/clerk/counter/declare",
    )


@router.get("/clerk/counter/declare", response_class=HTMLResponse, response_model=None)
def declare_page(request: Request) -> Response:
    who = _counter_clerk(request)
    if isinstance(who, Response):
        return who
    form = empty_form()
    form.values |= {"organisation_kind": "employer", "organisation": ""}
    return _page(request, form)


@router.post("/clerk/counter/declare", response_model=None)
async def declare_form(request: Request) -> Response:
    """The employer's form, plus the person's employer (or archive agency): checked the same
    way, declared once however often it is sent."""
    who = _counter_clerk(request)
    if isinstance(who, Response):
        return who
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not csrf.valid(request, raw.get(csrf.FIELD)):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    ctx = context_of(request)
    form = read_form(raw, ctx.policy)
    kind = raw.get("organisation_kind", "")
    organisation = raw.get("organisation", "").strip()
    form.values |= {"organisation_kind": kind, "organisation": organisation}
    if kind not in ("employer", "agency"):
        form.refuse("organisation", "counter.error_organisation_kind")
    else:
        try:
            _ORGANISATION.validate_python(organisation)
        except ValidationError:
            form.refuse("organisation", "counter.error_organisation")
    if not csrf.form_key_ok(raw.get("key", "")):
        form.refuse("form", "clerk.error_form")
    if form.errors or form.body is None:
        form.body = None
        return _page(request, form, status=400)
    body = form.body.model_copy(update={"at_counter": True, f"{kind}_id": organisation})
    try:
        answer = await declare(body, request, ctx, who, f"counter-{raw['key']}")
    except Problem as problem:
        form.refuse("form", problem_key(problem))
        return _page(request, form, status=problem.status)
    case_id = created_case_id(answer)
    return RedirectResponse(f"/clerk/cases/{case_id}?notice=declared", status_code=303)


async def _act(request: Request, case_id: str, token: str | None, key: str, act: Any) -> Response:
    who = _counter_clerk(request)
    if isinstance(who, Response):
        return who
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    if not csrf.form_key_ok(key):
        return refused(request, 400, "errors.bad_input_title", "clerk.error_form")
    try:
        await act(who, f"counter-{key}")
    except Problem as problem:
        return problem_page(request, problem)
    except ValidationError:
        return refused(request, 400, "errors.bad_input_title", "clerk.error_form")
    return RedirectResponse(f"/clerk/cases/{case_id}?notice=counter", status_code=303)


@router.post("/clerk/cases/{case_id}/counter/initiation", response_model=None)
async def counter_initiation(
    request: Request,
    case_id: str,
    key: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    ctx = context_of(request)

    async def act(who: Principal, idempotency: str) -> None:
        await initiate(case_id, ctx, who, InitiateBody(at_counter=True), idempotency)

    return await _act(request, case_id, token, key, act)


@router.post("/clerk/cases/{case_id}/counter/settlements", response_model=None)
async def counter_settlement(
    request: Request,
    case_id: str,
    task_id: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    ctx = context_of(request)

    async def act(who: Principal, idempotency: str) -> None:
        body = SettleBody(task_id=task_id, note=note.strip(), at_counter=True)
        await settle(case_id, body, ctx, who, idempotency)

    return await _act(request, case_id, token, key, act)
