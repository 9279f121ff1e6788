"""A retiree rates the service once their case has closed (好差评: five levels and a comment)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError

from api.deps import CaseIdPath, ContextDep, PrincipalDep, require
from api.problems import Problem, problems
from api.queries import rating_of, record_action
from api.schemas import Rating, RatingBody
from api.workflow_gateway import case_facts, may_view
from contracts.people import Role
from db.models import RatingRow

router = APIRouter(prefix="/cases", tags=["cases"])


@router.post(
    "/{case_id}/rating",
    status_code=201,
    response_model=Rating,
    summary="Rate the service once the case has closed (the retiree, once)",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
async def rate(case_id: CaseIdPath, body: RatingBody, ctx: ContextDep, who: PrincipalDep) -> Rating:
    """409 ``case-open`` before the case closes, ``already-rated`` for a second rating (a
    rating, once given, stays as given: it is the person's word)."""
    require(who, Role.INDIVIDUAL)
    facts = await case_facts(ctx, case_id)
    if not may_view(who, facts):
        raise Problem(403, "only the person whose case it is rates it", "forbidden")
    if not facts.closed:
        raise Problem(409, "the case is still open: rate it once it has closed", "case-open")
    now = datetime.now(UTC)

    def write() -> Rating | None:
        try:
            with ctx.sessions.begin() as db:
                db.add(
                    RatingRow(
                        case_id=case_id,
                        region_code=facts.region_code,
                        level=body.level,
                        comment=body.comment.strip(),
                        at=now,
                    )
                )
                db.flush()
                record_action(db, case_id, who.actor(), "rate", f"level {body.level}", "accepted")
        except IntegrityError:
            return None
        with ctx.read_sessions() as db:
            return rating_of(db, case_id)

    rating = await asyncio.to_thread(write)
    if rating is None:
        raise Problem(409, "the case has been rated already", "already-rated")
    return rating
