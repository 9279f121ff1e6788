"""A supervisor's figures, from the read model: open cases by stage, each department's open,
overdue and escalated tasks, its on-time rate and handling time in working days over the last
quarter, late declarations, the month-by-month trend of cases declared and completed, and the
retirees' ratings.

Counts are SQL aggregates; only the handling time reads rows (one per clerk task closed in the
quarter), because working days follow the official holiday calendar, not arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.queries import region_filter
from db.models import CaseRow, EscalationRow, RatingRow, TaskRow
from domain.months import YearMonth
from domain.timeline import CHINA_TZ
from domain.workdays import CalendarNotCovered, WorkingCalendar

QUARTER_DAYS = 91
TREND_MONTHS = 12


class DepartmentFigures(BaseModel):
    department: str
    open_tasks: int
    overdue_tasks: int
    escalated_tasks: int
    closed_in_quarter: int
    on_time_in_quarter: int
    on_time_rate: float | None = Field(
        description="closed on or before their due day; None: none closed"
    )
    mean_working_days: float | None = Field(description="opening to closing, in working days")


class MonthFigures(BaseModel):
    month: str
    declared: int
    completed: int


class RegionFigures(BaseModel):
    region_code: str
    open_cases: int
    overdue_cases: int


class RatingFigures(BaseModel):
    count: int
    mean: float | None = Field(description="5 very satisfied … 1 very dissatisfied")
    by_level: dict[int, int]


class Figures(BaseModel):
    region: str
    as_of: date
    open_cases: int
    open_by_stage: dict[str, int]
    by_region: list[RegionFigures] = Field(description="open cases by the county they are in")
    overdue_cases: int
    late_declarations: int = Field(description="open cases declared after their T-6 deadline")
    open_escalations: int
    departments: list[DepartmentFigures]
    months: list[MonthFigures]
    ratings: RatingFigures


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ).astimezone(UTC)


def figures(db: Session, region: str, today: date, calendar: WorkingCalendar) -> Figures:
    in_region = region_filter(CaseRow.region_code, region)
    open_case = CaseRow.closed_at.is_(None)
    by_stage = dict(
        db.execute(
            select(CaseRow.stage, func.count()).where(in_region, open_case).group_by(CaseRow.stage)
        ).all()
    )
    overdue = db.scalar(select(func.count()).where(in_region, open_case, CaseRow.overdue)) or 0
    by_region = [
        RegionFigures(region_code=code, open_cases=n, overdue_cases=late)
        for code, n, late in db.execute(
            select(CaseRow.region_code, func.count(), func.count().filter(CaseRow.overdue))
            .where(in_region, open_case)
            .group_by(CaseRow.region_code)
            .order_by(CaseRow.region_code)
        ).all()
    ]
    late = (
        db.scalar(
            select(func.count()).where(
                in_region, open_case, CaseRow.snapshot["late_declaration"].as_boolean()
            )
        )
        or 0
    )
    escalations = (
        db.scalar(
            select(func.count())
            .select_from(EscalationRow)
            .join(CaseRow, CaseRow.case_id == EscalationRow.case_id)
            .where(region_filter(EscalationRow.region_code, region), open_case)
        )
        or 0
    )
    return Figures(
        region=region,
        as_of=today,
        open_cases=sum(by_stage.values()),
        open_by_stage=by_stage,
        by_region=by_region,
        overdue_cases=overdue,
        late_declarations=late,
        open_escalations=escalations,
        departments=_departments(db, region, today, calendar),
        months=_months(db, region, today),
        ratings=_ratings(db, region),
    )


def _ratings(db: Session, region: str) -> RatingFigures:
    by_level = dict(
        db.execute(
            select(RatingRow.level, func.count())
            .where(region_filter(RatingRow.region_code, region))
            .group_by(RatingRow.level)
        ).all()
    )
    count = sum(by_level.values())
    mean = round(sum(level * n for level, n in by_level.items()) / count, 2) if count else None
    return RatingFigures(
        count=count, mean=mean, by_level={n: by_level.get(n, 0) for n in range(5, 0, -1)}
    )


def _departments(
    db: Session, region: str, today: date, calendar: WorkingCalendar
) -> list[DepartmentFigures]:
    clerk_task = [region_filter(TaskRow.region_code, region), TaskRow.assignee == "clerk"]
    is_open = TaskRow.status == "open"
    counts = db.execute(
        select(
            TaskRow.department,
            func.count(),
            func.count().filter(TaskRow.due < today),
            func.count().filter(TaskRow.escalated),
        )
        .where(*clerk_task, is_open)
        .group_by(TaskRow.department)
    ).all()
    found: dict[str, list[int]] = {d: [n, late, esc] for d, n, late, esc in counts if d}
    since = _start_of(today - timedelta(days=QUARTER_DAYS))
    closed = db.execute(
        select(TaskRow.department, TaskRow.opened_at, TaskRow.closed_at, TaskRow.due).where(
            *clerk_task, TaskRow.status == "done", TaskRow.closed_at >= since
        )
    ).all()
    spans: dict[str, list[int]] = defaultdict(list)
    on_time: dict[str, int] = defaultdict(int)
    for department, opened, finished, due in closed:
        if not department or finished is None:
            continue
        opened_day = opened.astimezone(CHINA_TZ).date()
        closed_day = finished.astimezone(CHINA_TZ).date()
        spans[department].append(_working_days(calendar, opened_day, closed_day))
        on_time[department] += due is None or closed_day <= due
    result = []
    for department in sorted(set(found) | set(spans)):
        n, late, esc = found.get(department, [0, 0, 0])
        done = spans.get(department, [])
        result.append(
            DepartmentFigures(
                department=department,
                open_tasks=n,
                overdue_tasks=late,
                escalated_tasks=esc,
                closed_in_quarter=len(done),
                on_time_in_quarter=on_time[department],
                on_time_rate=round(on_time[department] / len(done), 3) if done else None,
                mean_working_days=round(sum(done) / len(done), 1) if done else None,
            )
        )
    return result


def _working_days(calendar: WorkingCalendar, start: date, end: date) -> int:
    try:
        return calendar.working_days_between(start, end)
    except CalendarNotCovered:  # a year without the official calendar yet: Mondays to Fridays
        return sum(
            1 for n in range(1, (end - start).days + 1) if (start + timedelta(days=n)).weekday() < 5
        )


def _months(db: Session, region: str, today: date) -> list[MonthFigures]:
    in_region = region_filter(CaseRow.region_code, region)
    month = YearMonth.of(today).minus(TREND_MONTHS - 1)
    result = []
    for _ in range(TREND_MONTHS):
        start, end = _start_of(month.first_day()), _start_of(month.plus(1).first_day())
        declared = db.scalar(
            select(func.count()).where(
                in_region, CaseRow.created_at >= start, CaseRow.created_at < end
            )
        )
        completed = db.scalar(
            select(func.count()).where(
                in_region,
                CaseRow.stage == "completed",
                CaseRow.closed_at >= start,
                CaseRow.closed_at < end,
            )
        )
        result.append(
            MonthFigures(month=str(month), declared=declared or 0, completed=completed or 0)
        )
        month = month.plus(1)
    return result
