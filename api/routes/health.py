"""``/health``: is the database reachable, is Temporal?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import ContextDep
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "a dependency is down"}},
)
async def health(ctx: ContextDep) -> JSONResponse:
    database = await asyncio.to_thread(_database, ctx)
    try:
        await asyncio.wait_for(ctx.client.service_client.check_health(), timeout=5)
        temporal = "ok"
    except Exception as exc:
        temporal = f"unavailable: {type(exc).__name__}"
    ok = database == "ok" and temporal == "ok"
    body = Health(status="ok" if ok else "degraded", database=database, temporal=temporal)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


def _database(ctx: ContextDep) -> str:
    try:
        with ctx.sessions() as db:
            db.execute(text("SELECT 1"))
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"
    return "ok"
