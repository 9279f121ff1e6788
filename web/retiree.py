"""The retiree's own page (``/my``): where their case stands, in Chinese, on a phone."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.auth import Principal
from api.problems import Problem
from api.queries import CaseFilter, rating_of, search_cases
from api.routes.messages import case_messages, change_contact
from api.routes.ratings import rate
from api.schemas import CaseSummary, ContactBody, RatingBody
from api.workflow_gateway import snapshot_of
from contracts.people import Role
from contracts.workflow import Stage
from domain.timeline import CHINA_TZ
from web import csrf, session
from web.rendering import context_of, problem_key, refused, render, signin_first

COMMENT_MAX = 500

router = APIRouter(include_in_schema=False)


def _retiree(request: Request) -> Principal | Response:
    who = session.signed_in(request)
    if who is None:
        return signin_first(request)
    if who.role is not Role.INDIVIDUAL or who.person_key is None:
        return refused(request, 403, "signin.title", "my.individuals_only")
    return who


@router.get("/my", response_class=HTMLResponse, response_model=None)
async def my_case(
    request: Request,
    case: str | None = None,
    notice: Annotated[str | None, Query()] = None,
    form: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The nine items, the timeline, what is expected of whom next, the results, the messages
    and the number texts go to, and once the case has closed the rating form. ``case`` picks
    one of their cases (otherwise the open one, or the last to change)."""
    who = _retiree(request)
    if isinstance(who, Response):
        return who
    ctx = context_of(request)

    def read() -> list[CaseSummary]:
        with ctx.read_sessions() as db:
            where = CaseFilter(person_key=who.person_key)
            return search_cases(db, where, limit=20, offset=0).items

    cases = await asyncio.to_thread(read)
    if not cases:
        return render(request, "my.html", snapshot=None, cases=[], policy=ctx.policy)
    chosen = next((c for c in cases if c.case_id == case), None) if case else None
    if case and chosen is None:
        return refused(request, 404, "errors.not_found_title", "errors.not_found")
    chosen = chosen or _current(cases)
    snapshot = await snapshot_of(ctx, chosen.case_id)

    def read_rating() -> Any:
        with ctx.read_sessions() as db:
            return rating_of(db, chosen.case_id)

    rating = await asyncio.to_thread(read_rating) if snapshot.stage.terminal else None
    box = await case_messages(chosen.case_id, ctx, who)
    return render(
        request,
        "my.html",
        status=status,
        snapshot=snapshot,
        box=box,
        cases=[c for c in cases if c.case_id != chosen.case_id],
        policy=ctx.policy,
        today=datetime.now(CHINA_TZ).date(),
        rating=rating,
        notice=notice if notice in ("rated", "contact") else None,
        form={"level": "", "comment": "", "errors": {}} | (form or {}),
        contact={"mobile": "", "errors": {}} | (contact or {}),
        comment_max=COMMENT_MAX,
    )


@router.post("/my/rating", response_model=None)
async def rating(
    request: Request,
    case_id: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    """Five levels and a comment, once; sent again (a double click), it changes nothing and
    says the rating is in."""
    who = _retiree(request)
    if isinstance(who, Response):
        return who
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    form: dict[str, Any] = {"level": level, "comment": comment, "errors": {}}
    if level not in {"1", "2", "3", "4", "5"}:
        form["errors"]["level"] = "rating.error_level"
    if len(comment) > COMMENT_MAX:
        form["errors"]["comment"] = "rating.error_comment"
    if form["errors"]:
        return await my_case(request, case=case_id, form=form, status=400)
    try:
        body = RatingBody(level=int(level), comment=comment)
        await rate(case_id, body, context_of(request), who)
    except ValidationError:
        form["errors"]["comment"] = "clerk.error_reason_characters"
        return await my_case(request, case=case_id, form=form, status=400)
    except Problem as problem:
        if problem.slug != "already-rated":
            form["errors"]["form"] = problem_key(problem)
            return await my_case(request, case=case_id, form=form, status=problem.status)
    return RedirectResponse(f"/my?case={quote(case_id)}&notice=rated", status_code=303)


@router.post("/my/contact", response_model=None)
async def change_number(
    request: Request,
    case_id: Annotated[str, Form()] = "",
    mobile: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    """A new number for the person's texts; a wrong one is refused beside the field."""
    who = _retiree(request)
    if isinstance(who, Response):
        return who
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    contact: dict[str, Any] = {"mobile": mobile, "errors": {}}
    try:
        body = ContactBody(mobile=mobile)
    except ValidationError:
        contact["errors"]["mobile"] = "declare.error_mobile"
        return await my_case(request, case=case_id, contact=contact, status=400)
    try:
        await change_contact(case_id, body, context_of(request), who)
    except Problem as problem:
        contact["errors"]["form"] = problem_key(problem)
        return await my_case(request, case=case_id, contact=contact, status=problem.status)
    return RedirectResponse(f"/my?case={quote(case_id)}&notice=contact", status_code=303)


def _current(cases: list[CaseSummary]) -> CaseSummary:
    """The case a retiree most likely means: an open one, else the last to change."""
    open_cases = [c for c in cases if not Stage(c.stage).terminal]
    return max(open_cases or cases, key=lambda c: c.updated_at)
