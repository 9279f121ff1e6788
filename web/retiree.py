"""The retiree's own page (``/my``): where their case stands, in Chinese, on a phone."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.queries import CaseFilter, search_cases
from api.schemas import CaseSummary
from api.workflow_gateway import snapshot_of
from contracts.people import Role
from contracts.workflow import Stage
from domain.timeline import CHINA_TZ
from web import session
from web.rendering import context_of, refused, render, signin_first

router = APIRouter(include_in_schema=False)


@router.get("/my", response_class=HTMLResponse, response_model=None)
async def my_case(request: Request, case: str | None = None) -> Response:
    """The nine items, the timeline, what is expected of whom next, the results. ``case`` picks
    one of their cases (otherwise the open one, or the last to change)."""
    who = session.signed_in(request)
    if who is None:
        return signin_first(request)
    if who.role is not Role.INDIVIDUAL or who.person_key is None:
        return refused(request, 403, "signin.title", "my.individuals_only")
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
    return render(
        request,
        "my.html",
        snapshot=snapshot,
        cases=[c for c in cases if c.case_id != chosen.case_id],
        policy=ctx.policy,
        today=datetime.now(CHINA_TZ).date(),
    )


def _current(cases: list[CaseSummary]) -> CaseSummary:
    """The case a retiree most likely means: an open one, else the last to change."""
    open_cases = [c for c in cases if not Stage(c.stage).terminal]
    return max(open_cases or cases, key=lambda c: c.updated_at)
