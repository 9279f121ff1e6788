"""Reads of the read model for lists and inboxes, and the API's own writes (claims, refusals).

The workflow is the source of truth for a case; these tables are its projection, current within
a moment of every change, and what makes listing thousands of cases cheap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Mapped, Session

from api.auth import Principal
from api.schemas import AuditRecord, CaseSummary, EscalationItem, InboxTask, Page, Rating
from contracts.people import Actor, region_prefix
from db.models import AuditLogRow, CaseRow, EscalationRow, RatingRow, TaskRow
from domain.idcard import mask
from domain.workdays import estimate_note


def region_filter(column: Mapped[str], region: str) -> ColumnElement[bool]:
    """Rows in ``region`` or below it (``contracts.people.region_prefix``); a county is compared
    whole, so the inbox index serves it."""
    prefix = region_prefix(region)
    return column == region if prefix == region else column.startswith(prefix)


@dataclass(frozen=True)
class CaseFilter:
    stage: str | None = None
    region: str | None = None
    overdue: bool | None = None
    retirement_month: str | None = None
    organisation: str | None = None
    person_key: str | None = None


def case_summary(row: CaseRow) -> CaseSummary:
    return CaseSummary(
        case_id=row.case_id,
        stage=row.stage,
        path=row.path,
        category=row.category,
        region_code=row.region_code,
        organisation=row.organisation,
        person_name=row.person_name,
        id_masked=mask(row.id_number),
        retirement_month=row.retirement_month,
        next_due=row.next_due,
        next_due_note=_due_note(row.next_due, estimated=row.next_due_estimated),
        overdue=row.overdue,
        pending_departments=[d for d in row.pending_departments.split(",") if d],
        updated_at=row.updated_at,
    )


def search_cases(db: Session, where: CaseFilter, limit: int, offset: int) -> Page[CaseSummary]:
    query = select(CaseRow)
    if where.stage:
        query = query.where(CaseRow.stage == where.stage)
    if where.region:
        query = query.where(region_filter(CaseRow.region_code, where.region))
    if where.overdue is not None:
        query = query.where(CaseRow.overdue.is_(where.overdue))
    if where.retirement_month:
        query = query.where(CaseRow.retirement_month == where.retirement_month)
    if where.organisation:
        query = query.where(CaseRow.organisation == where.organisation)
    if where.person_key:
        query = query.where(CaseRow.person_key == where.person_key)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(CaseRow.next_due.is_(None), CaseRow.next_due, CaseRow.case_id)
        .limit(limit)
        .offset(offset)
    )
    return Page(items=[case_summary(r) for r in rows], total=total, limit=limit, offset=offset)


@dataclass(frozen=True)
class InboxFilter:
    department: str
    region: str
    status: str = "open"
    stage: str | None = None
    kind: str | None = None
    due_before: date | None = None
    escalated: bool | None = None
    claimed_by: str | None = None


def _due_note(due: date | None, *, estimated: bool) -> str | None:
    """The sentence an estimated due date carries (the CLI and the rules API say the same)."""
    return estimate_note(due.year) if estimated and due is not None else None


def inbox_statements(
    where: InboxFilter, limit: int, offset: int
) -> tuple[Select[int], Select[TaskRow, CaseRow]]:
    """The inbox's count and its page.

    Counted from the tasks alone unless a case's column filters them (every task has its case),
    and read in the inbox index's own order (``ix_tasks_inbox`` ends with due, opened at and id;
    an ascending index keeps the tasks without a due date last): a page then costs its rows,
    not a sort of every open task in the region (docs/performance.md).
    """
    conditions = [
        TaskRow.department == where.department,
        region_filter(TaskRow.region_code, where.region),
        TaskRow.status == where.status,
    ]
    if where.kind:
        conditions.append(TaskRow.kind == where.kind)
    if where.due_before:
        conditions.append(TaskRow.due <= where.due_before)
    if where.escalated is not None:
        conditions.append(TaskRow.escalated.is_(where.escalated))
    if where.claimed_by:
        conditions.append(TaskRow.claimed_by == where.claimed_by)
    page = select(TaskRow, CaseRow).join(CaseRow, CaseRow.case_id == TaskRow.case_id)
    counted = select(func.count()).select_from(TaskRow)
    if where.stage:
        page = page.where(CaseRow.stage == where.stage)
        counted = counted.join(CaseRow, CaseRow.case_id == TaskRow.case_id)
        counted = counted.where(CaseRow.stage == where.stage)
    page = (
        page.where(*conditions)
        .order_by(TaskRow.due.asc().nulls_last(), TaskRow.opened_at, TaskRow.id)
        .limit(limit)
        .offset(offset)
    )
    return counted.where(*conditions), page


def inbox(db: Session, where: InboxFilter, limit: int, offset: int) -> Page[InboxTask]:
    counted, page = inbox_statements(where, limit, offset)
    total = db.scalar(counted) or 0
    rows = db.execute(page)
    items = [
        InboxTask(
            case_id=task.case_id,
            task_id=task.task_id,
            kind=task.kind,
            title=task.title,
            department=task.department,
            region_code=task.region_code,
            status=task.status,
            stage=case.stage,
            person_name=case.person_name,
            id_masked=mask(case.id_number),
            due=task.due,
            due_estimated=task.due_estimated,
            due_note=_due_note(task.due, estimated=task.due_estimated),
            escalated=task.escalated,
            if_rejected=task.if_rejected,
            attempt=task.attempt,
            opened_at=task.opened_at,
            claimed_by=task.claimed_by,
        )
        for task, case in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


def closed_cases(db: Session, person_key: str) -> int:
    """How many of the person's cases have closed (their ids are not to be used again)."""
    query = select(func.count()).where(CaseRow.person_key == person_key)
    return db.scalar(query.where(CaseRow.closed_at.is_not(None))) or 0


def task_row(db: Session, case_id: str, task_id: str) -> TaskRow | None:
    return db.get(TaskRow, f"{case_id}/{task_id}")


def audit_trail(db: Session, case_id: str) -> list[AuditRecord]:
    rows = db.scalars(
        select(AuditLogRow)
        .where(AuditLogRow.case_id == case_id)
        .order_by(AuditLogRow.at, AuditLogRow.id)
    )
    return [
        AuditRecord(
            at=r.at,
            actor_id=r.actor_id,
            actor_role=r.actor_role,
            actor_department=r.actor_department,
            actor_region=r.actor_region,
            actor_organisation=r.actor_organisation,
            at_counter=r.at_counter,
            action=r.action,
            detail=r.detail,
            result=r.result,
        )
        for r in rows
    ]


def escalations(
    db: Session, who: Principal, department: str | None, limit: int, offset: int
) -> Page[EscalationItem]:
    query = select(EscalationRow).join(CaseRow, CaseRow.case_id == EscalationRow.case_id)
    query = query.where(CaseRow.closed_at.is_(None))
    if who.region:
        query = query.where(region_filter(EscalationRow.region_code, who.region))
    if department:
        query = query.where(EscalationRow.department == department)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(EscalationRow.at, EscalationRow.id).limit(limit).offset(offset)
    )
    items = [
        EscalationItem(
            case_id=r.case_id,
            department=r.department,
            region_code=r.region_code,
            task_id=r.task_id,
            reason=r.reason,
            at=r.at,
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


def record_action(
    db: Session, case_id: str, actor: Actor, action: str, detail: str, result: str
) -> None:
    """Actions the API decides itself: refused attempts (the workflow projects only accepted
    ones) and task claims."""
    db.add(
        AuditLogRow(
            entry_id=f"api:{uuid.uuid4().hex}",
            case_id=case_id,
            at=datetime.now(UTC),
            actor_id=actor.id,
            actor_role=actor.role.value,
            actor_department=actor.department.value if actor.department else None,
            actor_region=actor.region,
            actor_organisation=actor.organisation,
            at_counter=actor.at_counter,
            action=action,
            detail=detail[:2000],
            result=result,
        )
    )


def open_party_tasks(db: Session, case_ids: list[str], assignee: str) -> dict[str, list[str]]:
    """The kinds of the open tasks each case has for ``assignee`` (``organisation`` or
    ``individual``): what a list of cases says is expected of its reader."""
    if not case_ids:
        return {}
    rows = db.execute(
        select(TaskRow.case_id, TaskRow.kind)
        .where(TaskRow.case_id.in_(case_ids))
        .where(TaskRow.status == "open")
        .where(TaskRow.assignee == assignee)
        .order_by(TaskRow.opened_at, TaskRow.id)
    )
    found: dict[str, list[str]] = {}
    for case_id, kind in rows:
        found.setdefault(case_id, []).append(kind)
    return found


def rating_of(db: Session, case_id: str) -> Rating | None:
    row = db.get(RatingRow, case_id)
    if row is None:
        return None
    return Rating(case_id=row.case_id, level=row.level, comment=row.comment, at=row.at)
