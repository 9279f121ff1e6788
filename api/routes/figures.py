"""Supervisors' figures: the same numbers their page shows, for their own tools."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ContextDep, PrincipalDep, require
from api.figures import Figures, figures
from api.problems import Problem, problems
from contracts.people import Role
from domain.timeline import CHINA_TZ, working_calendar

router = APIRouter(tags=["figures"])


@router.get(
    "/figures",
    response_model=Figures,
    summary="Open cases, each department's deadlines and handling time, the monthly trend",
    responses=problems(401, 403, 422),
)
async def get_figures(
    ctx: ContextDep,
    who: PrincipalDep,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> Figures:
    """For supervisors and administrators: their region, or ``region`` within it."""
    require(who, Role.SUPERVISOR, Role.ADMIN)
    if region is not None and not who.covers(region):
        raise Problem(403, f"region {region} is outside the caller's region", "wrong-region")
    where = region or who.region or ""
    today = datetime.now(CHINA_TZ).date()
    calendar = working_calendar(ctx.policy)

    def read() -> Figures:
        with ctx.read_sessions() as db:
            return figures(db, where, today, calendar)

    return await asyncio.to_thread(read)
