"""The rules calculators, open to anyone: retirement date, timeline, clerks' deadlines, pension
estimate, and the policy in force with every unverified figure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ContextDep
from api.problems import Problem, problems
from api.schemas import PensionEstimateBody
from contracts.rules import Pension, RetirementDate, Timeline
from domain.idcard import InvalidIdNumber, mask, parse_id_number
from domain.months import YearMonth
from domain.pension import PensionInputError, estimate_pension
from domain.policy import Category, ClerkTask, Gender
from domain.statutory import statutory_retirement
from domain.timeline import CHINA_TZ, case_timeline, clerk_deadline, working_calendar

router = APIRouter(prefix="/rules", tags=["rules"])


class IdNumberBody(BaseModel):
    id_number: Annotated[str, Field(max_length=40)]


class IdNumberView(BaseModel):
    id_masked: str
    birth_date: date
    gender: Gender
    region_code: str = Field(description="the region the number was issued in")


@router.post(
    "/id-number",
    response_model=IdNumberView,
    summary="Check an ID number as it is typed (GB 11643)",
    responses=problems(400, 413, 422),
)
def check_id_number(body: IdNumberBody) -> IdNumberView:
    """What the number says: birth date, gender, region; or 422 ``invalid-id-number`` whose
    ``reason`` is one of ``length``, ``characters``, ``region``, ``birth-date``,
    ``check-character``. Sent in the body, so the number is in no URL or access log."""
    try:
        parsed = parse_id_number(body.id_number, datetime.now(CHINA_TZ).date())
    except InvalidIdNumber as exc:
        raise Problem(422, str(exc), "invalid-id-number", reason=exc.code) from None
    return IdNumberView(
        id_masked=mask(parsed.number),
        birth_date=parsed.birth_date,
        gender=parsed.gender,
        region_code=parsed.region_code,
    )


def _month(text: str, name: str) -> YearMonth:
    try:
        month = YearMonth.parse(text)
    except ValueError as exc:
        raise Problem(422, f"{name}: {exc}", "validation") from None
    if not 1900 <= month.year <= 2100:
        raise Problem(422, f"{name}: {text} is outside 1900..2100", "validation")
    return month


@router.get(
    "/retirement-date",
    response_model=list[RetirementDate],
    summary="Statutory retirement month under the 2024 reform",
    responses=problems(422),
)
def retirement_date(
    ctx: ContextDep,
    category: Category,
    birth_month: Annotated[list[str], Query(min_length=1, max_length=100)],
) -> list[RetirementDate]:
    """One answer per ``birth_month`` (``YYYY-MM``, repeatable), in order."""
    months = [_month(text, "birth_month") for text in birth_month]
    return [RetirementDate.of(statutory_retirement(m, category, ctx.policy)) for m in months]


@router.get(
    "/timeline",
    response_model=Timeline,
    summary="A case's deadlines and reminders",
    responses=problems(422),
)
def timeline(
    ctx: ContextDep,
    retirement_month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    birth_month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    category: Category | None = None,
) -> Timeline:
    """Give ``retirement_month`` (T), or ``birth_month`` with ``category``."""
    if retirement_month is not None and birth_month is None and category is None:
        month = _month(retirement_month, "retirement_month")
    elif retirement_month is None and birth_month is not None and category is not None:
        birth = _month(birth_month, "birth_month")
        month = statutory_retirement(birth, category, ctx.policy).retirement_month
    else:
        raise Problem(422, "give retirement_month, or birth_month with category", "validation")
    return Timeline.of(case_timeline(month, ctx.policy))


@router.post(
    "/pension-estimate",
    response_model=Pension,
    summary="Monthly pension estimate",
    responses=problems(400, 413, 422),
)
def pension_estimate(body: PensionEstimateBody, ctx: ContextDep) -> Pension:
    birth = _month(body.birth_month, "birth_month")
    statutory = statutory_retirement(birth, body.category, ctx.policy)
    month = (
        _month(body.retirement_month, "retirement_month")
        if body.retirement_month
        else statutory.retirement_month
    )
    try:
        estimate = estimate_pension(
            birth_month=birth,
            retirement_month=month,
            contribution_index=body.contribution_index,
            actual_years=body.actual_years,
            deemed_years=body.deemed_years,
            account_balance=body.account_balance,
            wage_area=body.wage_area,
            policy=ctx.policy,
        )
    except PensionInputError as exc:
        raise Problem(422, str(exc), "pension-input") from None
    return Pension.of(estimate)


class ClerkDue(BaseModel):
    """A clerk task's deadline, field for field what ``retirement rules clerk-due --json``
    prints (both come from the workflow's own :func:`domain.timeline.clerk_deadline`)."""

    task: ClerkTask
    opened: date
    working_days: int
    due: date
    estimated: bool = Field(
        description="true when a year the count reaches has no official holiday calendar yet: "
        "then Monday to Friday are counted, without holidays"
    )
    estimate_note: str | None = Field(
        description="for an estimated deadline, the sentence to show with it; otherwise null"
    )


@router.get(
    "/clerk-due",
    response_model=ClerkDue,
    summary="A clerk task's deadline in working days",
    responses=problems(422),
)
def clerk_due(ctx: ContextDep, task: ClerkTask, opened: date) -> ClerkDue:
    """``opened`` (``YYYY-MM-DD``) is the day the task was opened; it does not count. A
    deadline in a year whose official holiday calendar is not published yet is estimated, and
    says so (``estimated``, ``estimate_note``), exactly as the task's own deadline is."""
    # Far dates have no calendar anyway, and a count near year 9999 would overflow ``date``.
    if not 1900 <= opened.year <= 2100:
        raise Problem(422, f"opened: {opened} is outside 1900..2100", "validation")
    deadline = clerk_deadline(task, opened, ctx.policy, working_calendar(ctx.policy))
    return ClerkDue(
        task=task,
        opened=opened,
        working_days=ctx.policy.clerk_sla.working_days[task],
        due=deadline.due,
        estimated=deadline.estimated,
        estimate_note=deadline.estimate_note,
    )


class Unverified(BaseModel):
    where: str
    why: str


class PolicyView(BaseModel):
    """The policy in force, as ``retirement rules policy --json`` prints it."""

    id: str
    version: str
    unverified: list[Unverified] = Field(
        description="every figure not verified against an official text (verified = false in "
        "the policy file): where it is, and why"
    )


@router.get("/policy", response_model=PolicyView, summary="The policy in force")
def policy(ctx: ContextDep) -> PolicyView:
    p = ctx.policy
    return PolicyView(
        id=p.meta.id,
        version=p.meta.version,
        unverified=[Unverified(where=where, why=why) for where, why in p.unverified()],
    )
