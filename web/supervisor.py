"""The supervisor's pages (科室负责人): the figures of their region as charts and a table (and a
CSV file of the same), and the escalation queue, where they reassign an escalated task."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from api.auth import Principal
from api.figures import Figures, figures
from api.problems import Problem
from api.queries import escalations
from api.routes.tasks import change_claim
from contracts.base import Identifier
from contracts.people import Role
from domain.timeline import CHINA_TZ, working_calendar
from web import csrf, session
from web.messages import messages
from web.rendering import context_of, problem_key, refused, render, signin_first

router = APIRouter(include_in_schema=False)

NOTICES = {"assigned"}


def _supervisor(request: Request) -> Principal | Response:
    who = session.signed_in(request)
    if who is None:
        return signin_first(request)
    if who.role not in (Role.SUPERVISOR, Role.ADMIN) or who.region is None:
        return refused(request, 403, "signin.title", "supervisor.only")
    return who


async def _figures(request: Request, who: Principal) -> tuple[Figures, Any]:
    ctx = context_of(request)
    today = datetime.now(CHINA_TZ).date()
    calendar = working_calendar(ctx.policy)
    region = who.region or ""

    def read() -> tuple[Figures, Any]:
        with ctx.read_sessions() as db:
            return figures(db, region, today, calendar), escalations(db, who, None, 50, 0)

    return await asyncio.to_thread(read)


@router.get("/supervisor", response_class=HTMLResponse, response_model=None)
async def figures_page(
    request: Request,
    notice: Annotated[str | None, Query()] = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    who = _supervisor(request)
    if isinstance(who, Response):
        return who
    found, queue = await _figures(request, who)
    largest = max([1, *(m.declared for m in found.months), *(m.completed for m in found.months)])
    return render(
        request,
        "supervisor.html",
        status=status,
        staff=who,
        f=found,
        queue=queue,
        largest=largest,
        notice=notice if notice in NOTICES else None,
        error=error,
    )


@router.get("/supervisor/figures.csv", response_model=None)
async def figures_csv(request: Request) -> Response:
    """The departments' figures and the monthly trend, for a spreadsheet (UTF-8 with a BOM, so
    Excel reads the Chinese headings)."""
    who = _supervisor(request)
    if isinstance(who, Response):
        return who
    found, _ = await _figures(request, who)
    t = messages()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([t(f"supervisor.csv_{name}") for name in DEPARTMENT_COLUMNS])
    for d in found.departments:
        writer.writerow(
            [
                t.get(f"department.{d.department}", d.department),
                d.open_tasks,
                d.overdue_tasks,
                d.escalated_tasks,
                d.closed_in_quarter,
                "" if d.on_time_rate is None else f"{d.on_time_rate:.1%}",
                "" if d.mean_working_days is None else d.mean_working_days,
            ]
        )
    writer.writerow([])
    writer.writerow([t(f"supervisor.{name}") for name in ("csv_month", "declared", "completed")])
    for m in found.months:
        writer.writerow([m.month, m.declared, m.completed])
    name = f"figures-{found.region}-{found.as_of.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


DEPARTMENT_COLUMNS = (
    "department", "open", "overdue", "escalated", "closed", "on_time", "working_days",
)  # fmt: skip


@router.post("/supervisor/assign", response_model=None)
async def assign(
    request: Request,
    case_id: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
    clerk_id: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    who = _supervisor(request)
    if isinstance(who, Response):
        return who
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    try:
        clerk = _identifier(clerk_id.strip())
    except ValidationError:
        return await figures_page(request, error="supervisor.error_clerk", status=400)
    try:
        await change_claim(context_of(request), who, case_id, task_id, clerk, "assign")
    except Problem as problem:
        return await figures_page(request, error=problem_key(problem), status=problem.status)
    return RedirectResponse("/supervisor?notice=assigned", status_code=303)


_CLERK_ID: TypeAdapter[str] = TypeAdapter(Identifier)


def _identifier(text: str) -> str:
    return _CLERK_ID.validate_python(text)
