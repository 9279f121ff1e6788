"""Cases: declare, list, follow, and the employer's and retiree's actions on a case."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.auth import Principal
from api.deps import (
    ApiContext,
    CaseIdPath,
    ContextDep,
    IdempotencyKey,
    PrincipalDep,
    SessionDep,
    require,
)
from api.idempotency import fingerprint, once, request_id
from api.problems import Problem, problems
from api.queries import CaseFilter, audit_trail, closed_cases, search_cases
from api.schemas import (
    AuditRecord,
    Body,
    CaseCreated,
    CaseSummary,
    CorrectionBody,
    DeclareBody,
    InitiateBody,
    Page,
    ReasonBody,
    ResubmitBody,
    SettleBody,
    WithdrawBody,
)
from api.timing import waiting_for_temporal
from api.workflow_gateway import CaseFacts, case_facts, may_view, refuse, send, snapshot_of
from contracts.identity import person_key
from contracts.people import Actor, Department, Person, Role
from contracts.plans import plan_problems
from contracts.workflow import (
    Cancel,
    CaseSnapshot,
    CaseStatus,
    CorrectRetirement,
    Declare,
    Initiate,
    Resubmit,
    Settle,
    Stage,
    Withdraw,
)
from db.contacts import save_mobile
from domain.idcard import InvalidIdNumber, parse_id_number
from domain.timeline import CHINA_TZ
from service.case_start import start_case
from workflows.case import RetirementCase

router = APIRouter(prefix="/cases", tags=["cases"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Region = Annotated[str | None, Query(pattern=r"^\d{6}$")]
STAFF = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)


@router.post(
    "",
    status_code=201,
    response_model=CaseCreated,
    responses={
        200: {"model": CaseCreated, "description": "the person's open case, declared"},
        **problems(400, 401, 403, 409, 413, 422, 503),
    },
    summary="Declare a retiree (申报): starts the case, or declares the open one",
)
async def declare(
    body: DeclareBody,
    request: Request,
    ctx: ContextDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The employer or archive agency declares for its own organisation. An HR clerk of the
    person's region declares at the offline counter (线下综窗) with ``at_counter: true`` and the
    person's ``employer_id`` (or ``agency_id`` for a person without an employer); the
    declaration is recorded as made at the counter."""
    require(who, Role.EMPLOYER, Role.AGENCY, Role.CLERK)
    employer_id, agency_id = _declaring_organisation(who, body)
    today = datetime.now(CHINA_TZ).date()
    try:
        parse_id_number(body.person.id_number, today)
        person = Person(
            id_number=body.person.id_number,
            name=body.person.name,
            category=body.person.category,
            region_code=body.person.region_code,
            employer_id=employer_id,
            agency_id=agency_id,
        )
    except InvalidIdNumber as exc:
        raise Problem(422, f"person.id_number: {exc}", "invalid-id-number") from None
    except ValidationError as exc:
        raise Problem(422, f"person: {exc.errors()[0]['msg']}", "validation") from None
    if who.role is Role.CLERK and not who.covers(person.region_code):
        raise Problem(403, f"region {person.region_code} is not the clerk's", "wrong-region")
    problems = plan_problems(person.birth_month, person.category, body.declaration, ctx.policy)
    if problems:
        raise Problem(422, "; ".join(problems), "rule-refusal")
    rid = request_id(who, idempotency_key)
    actor = who.actor(at_counter=body.at_counter)

    def closed() -> int:
        with ctx.read_sessions() as db:
            return closed_cases(db, person_key(person.id_number, ctx.settings.case_secret))

    def keep_mobile(key: str) -> None:
        """The number the declaration gave, once it is applied (never into the workflow)."""
        if body.person.mobile is not None:
            with ctx.sessions.begin() as db:
                save_mobile(db, key, body.person.mobile, ctx.sealer)

    async def apply() -> tuple[int, Any]:
        generation = 1 + await asyncio.to_thread(closed)
        async with waiting_for_temporal():
            started = await start_case(
                ctx.client,
                first_generation=generation,
                person=person,
                policy=ctx.policy,
                secret=ctx.settings.case_secret,
                task_queue=ctx.settings.temporal_task_queue,
                declaration=body.declaration,
                declared_by=actor,
                request_id=rid,
                search_attributes=ctx.settings.temporal_search_attributes,
            )
        if started.created:
            await asyncio.to_thread(keep_mobile, started.person_key)
            # Its first workflow task has run once the read model has the case.
            snapshot = await snapshot_of(ctx, started.case_id)
            return 201, CaseCreated(case_id=started.case_id, created=True, status=snapshot.status())
        facts = await case_facts(ctx, started.case_id)
        if facts.organisation != person.organisation:
            problem = Problem(
                403, "this person's case is held by another organisation", "wrong-organisation"
            )
            raise await refuse(ctx, facts, actor, "declare", problem)
        try:
            status = await send(
                ctx,
                facts,
                actor,
                "declare",
                RetirementCase.declare,
                Declare(request_id=rid, actor=actor, declaration=body.declaration),
                rid,
            )
        except Problem as problem:
            if problem.slug != "duplicate":
                raise
            # This very request started the case, and its first answer did not reach the
            # caller (503 while the case was not projected yet): answer as then.
            await asyncio.to_thread(keep_mobile, started.person_key)
            snapshot = await snapshot_of(ctx, started.case_id)
            return 201, CaseCreated(case_id=started.case_id, created=True, status=snapshot.status())
        await asyncio.to_thread(keep_mobile, started.person_key)
        return 200, CaseCreated(case_id=started.case_id, created=False, status=status)

    print_ = fingerprint("POST", "/cases", body.model_dump(mode="json"))
    return await once(ctx.sessions, who, idempotency_key, print_, apply)


def _declaring_organisation(who: Principal, body: DeclareBody) -> tuple[str | None, str | None]:
    """The person's (employer, agency): the caller's own organisation, or, for an HR clerk at
    the counter, the one the body names. Refused when the body names one it may not."""
    named = body.employer_id is not None or body.agency_id is not None
    if who.role is not Role.CLERK:
        if named:
            raise Problem(
                422, "employer_id and agency_id are given only at the counter", "validation"
            )
        if who.role is Role.EMPLOYER:
            return who.organisation, None
        return None, who.organisation
    if not body.at_counter:
        raise Problem(
            403, "a clerk declares for an employer or person only at the counter", "forbidden"
        )
    if who.department is not Department.HR:
        raise Problem(403, "only HR clerks act at the counter", "forbidden")
    if (body.employer_id is None) == (body.agency_id is None):
        raise Problem(
            422,
            "at the counter, name the person's employer_id or, without an employer, agency_id",
            "validation",
        )
    return body.employer_id, body.agency_id


@router.get(
    "", response_model=Page[CaseSummary], summary="Search cases", responses=problems(401, 403, 422)
)
def list_cases(
    db: SessionDep,
    who: PrincipalDep,
    stage: Stage | None = None,
    region: Region = None,
    overdue: bool | None = None,
    retirement_month: Month = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CaseSummary]:
    """Employers and agencies see their own cases, a retiree their own, staff every case in
    their region (narrowed with ``region``)."""
    where = CaseFilter(
        stage=stage.value if stage else None, overdue=overdue, retirement_month=retirement_month
    )
    if who.role in (Role.EMPLOYER, Role.AGENCY):
        where = CaseFilter(**{**where.__dict__, "organisation": who.organisation, "region": region})
    elif who.role is Role.INDIVIDUAL:
        where = CaseFilter(**{**where.__dict__, "person_key": who.person_key})
    else:
        if region is not None and not who.covers(region):
            raise Problem(403, f"region {region} is outside the caller's region", "wrong-region")
        where = CaseFilter(**{**where.__dict__, "region": region or who.region})
    return search_cases(db, where, limit, offset)


async def _facts_for(ctx: ContextDep, who: PrincipalDep, case_id: str) -> CaseFacts:
    facts = await case_facts(ctx, case_id)
    if not may_view(who, facts):
        raise Problem(403, "this case is not the caller's to see", "forbidden")
    return facts


@router.get(
    "/{case_id}",
    response_model=CaseSnapshot,
    summary="A case's progress",
    responses=problems(401, 403, 404, 422, 503),
)
async def get_case(case_id: CaseIdPath, ctx: ContextDep, who: PrincipalDep) -> CaseSnapshot:
    """The nine items, deadlines, tasks, decisions and the case's story (ID numbers masked)."""
    await _facts_for(ctx, who, case_id)
    return await snapshot_of(ctx, case_id)


@router.get(
    "/{case_id}/audit",
    response_model=list[AuditRecord],
    summary="A case's audit trail",
    responses=problems(401, 403, 404, 422, 503),
)
async def get_audit(case_id: CaseIdPath, ctx: ContextDep, who: PrincipalDep) -> list[AuditRecord]:
    require(who, *STAFF)
    await _facts_for(ctx, who, case_id)

    def read() -> list[AuditRecord]:
        with ctx.read_sessions() as db:
            return audit_trail(db, case_id)

    return await asyncio.to_thread(read)


Authorize = Callable[[Principal, CaseFacts], str | None]  # the reason to refuse, or None


def parties(*roles: Role) -> Authorize:
    """The case's own employer or agency, or the person; ``CLERK`` admits a clerk acting at the
    offline counter for them (the workflow checks the clerk's department and region)."""

    def check(who: Principal, facts: CaseFacts) -> str | None:
        if who.role not in roles:
            return f"a {who.role} may not do this"
        if who.role is Role.CLERK:
            return None if who.covers(facts.region_code) else "the case is in another region"
        return None if may_view(who, facts) else "this case is not the caller's"

    return check


def staff_in_region(who: Principal, facts: CaseFacts) -> str | None:
    if who.role not in STAFF:
        return f"a {who.role} may not do this"
    return None if who.covers(facts.region_code) else "the case is in another region"


def parties_or_staff(who: Principal, facts: CaseFacts) -> str | None:
    if who.is_staff:
        return staff_in_region(who, facts)
    return parties(Role.EMPLOYER, Role.AGENCY, Role.INDIVIDUAL)(who, facts)


async def _act(
    ctx: ApiContext,
    who: Principal,
    case_id: CaseIdPath,
    path: str,
    action: str,
    key: str | None,
    body: Any,
    authorize: Authorize,
    update: Any,
    build: Callable[[str, Actor], Any],
    *,
    at_counter: bool = False,
    counter_only: bool = True,
    target: str | None = None,
) -> JSONResponse:
    """Authorise, then send the action to the case as an Update, once per Idempotency-Key.
    ``counter_only``: a clerk may do this only for the person at the offline counter;
    ``target``: the task it acts on, named in the audit entry of a refusal."""
    facts = await case_facts(ctx, case_id)
    actor = who.actor(at_counter=at_counter)
    reason = authorize(who, facts)
    if reason is not None:
        problem = Problem(403, reason, "forbidden")
        raise await refuse(ctx, facts, actor, action, problem, target=target)
    if counter_only and who.role is Role.CLERK and not at_counter:
        problem = Problem(403, "a clerk acts for the employer or person only at the counter")
        raise await refuse(ctx, facts, actor, action, problem, target=target)
    rid = request_id(who, key)

    async def apply() -> tuple[int, Any]:
        request = build(rid, actor)
        return 200, await send(ctx, facts, actor, action, update, request, rid, target=target)

    print_ = fingerprint("POST", f"/cases/{case_id}/{path}", body)
    return await once(ctx.sessions, who, key, print_, apply)


def _dump(body: Body | None) -> Any:
    return None if body is None else body.model_dump(mode="json")


@router.post(
    "/{case_id}/resubmission",
    response_model=CaseStatus,
    summary="Correct and resubmit",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
async def resubmit(
    case_id: CaseIdPath,
    body: ResubmitBody,
    ctx: ContextDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The employer or agency, or an HR clerk at the counter (``at_counter: true``)."""
    return await _act(
        ctx, who, case_id, "resubmission", "resubmit", idempotency_key, _dump(body),
        parties(Role.EMPLOYER, Role.AGENCY, Role.CLERK),
        RetirementCase.resubmit,
        lambda rid, actor: Resubmit(request_id=rid, actor=actor, declaration=body.declaration),
        at_counter=body.at_counter,
    )  # fmt: skip


@router.post(
    "/{case_id}/settlements",
    response_model=CaseStatus,
    summary="Report a contribution problem settled",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
async def settle(
    case_id: CaseIdPath,
    body: SettleBody,
    ctx: ContextDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The employer or agency, the person, or an HR clerk at the counter
    (``at_counter: true``)."""
    return await _act(
        ctx, who, case_id, "settlements", "settle", idempotency_key, _dump(body),
        parties(Role.EMPLOYER, Role.AGENCY, Role.INDIVIDUAL, Role.CLERK),
        RetirementCase.settle,
        lambda rid, actor: Settle(
            request_id=rid, actor=actor, task_id=body.task_id, note=body.note
        ),
        at_counter=body.at_counter,
        target=body.task_id,
    )  # fmt: skip


@router.post(
    "/{case_id}/initiation",
    response_model=CaseStatus,
    summary="Initiate the joint application (发起)",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
async def initiate(
    case_id: CaseIdPath,
    ctx: ContextDep,
    who: PrincipalDep,
    body: InitiateBody | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The employer, the person without an employer, or an HR clerk at the counter
    (``at_counter: true``), from the first day of the month before retirement."""
    return await _act(
        ctx, who, case_id, "initiation", "initiate", idempotency_key, _dump(body),
        parties(Role.EMPLOYER, Role.INDIVIDUAL, Role.CLERK),
        RetirementCase.initiate,
        lambda rid, actor: Initiate(request_id=rid, actor=actor),
        at_counter=bool(body and body.at_counter),
    )  # fmt: skip


@router.post(
    "/{case_id}/withdrawal",
    response_model=CaseStatus,
    summary="Withdraw the case",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
async def withdraw(
    case_id: CaseIdPath,
    body: WithdrawBody,
    ctx: ContextDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The employer or agency, the person, or an HR clerk at the counter
    (``at_counter: true``), before joint handling begins."""
    return await _act(
        ctx, who, case_id, "withdrawal", "withdraw", idempotency_key, _dump(body),
        parties(Role.EMPLOYER, Role.AGENCY, Role.INDIVIDUAL, Role.CLERK),
        RetirementCase.withdraw,
        lambda rid, actor: Withdraw(request_id=rid, actor=actor, reason=body.reason),
        at_counter=body.at_counter,
    )  # fmt: skip


@router.post(
    "/{case_id}/cancellation",
    response_model=CaseStatus,
    summary="Cancel a case with a reason (HR clerks, supervisors)",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
async def cancel(
    case_id: CaseIdPath,
    body: ReasonBody,
    ctx: ContextDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _act(
        ctx, who, case_id, "cancellation", "cancel", idempotency_key, _dump(body),
        staff_in_region,
        RetirementCase.cancel,
        lambda rid, actor: Cancel(request_id=rid, actor=actor, reason=body.reason),
        counter_only=False,
    )  # fmt: skip


@router.post(
    "/{case_id}/retirement-correction",
    response_model=CaseStatus,
    summary="Correct the retirement date (moves every pending deadline)",
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
async def correct(
    case_id: CaseIdPath,
    body: CorrectionBody,
    ctx: ContextDep,
    who: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """HR clerks correct data (category, the archive's birth month); the employer or person
    chooses flexible retirement. The workflow checks which is which."""
    return await _act(
        ctx, who, case_id, "retirement-correction", "correct-retirement", idempotency_key,
        _dump(body), parties_or_staff,
        RetirementCase.correct_retirement,
        lambda rid, actor: CorrectRetirement(
            request_id=rid, actor=actor, reason=body.reason, category=body.category,
            declaration=body.declaration,
        ),
        counter_only=False,
    )  # fmt: skip
