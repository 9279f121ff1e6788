"""The read model: the database copy of every case that lists, inboxes and audits read.

The workflow is the source of truth; it projects the case after each change, and activities can
arrive late or twice (retries, a slow worker). So a projection changes the case, its tasks and
its escalations only when its ``snapshot.version`` is newer than the stored one; audit entries
are appended whatever the version (each once, by id: a late projection may be the only one that
carries an entry). ``claimed_by``/``claimed_at`` on tasks belong to the API and are never
written here.

Concurrent projections of one case are serialised by a lock on its ``cases`` row (``SELECT ...
FOR UPDATE`` on PostgreSQL; SQLite serialises all writers anyway).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contracts.read_model import AuditEntry, Projection
from contracts.workflow import CaseSnapshot, Task
from db.models import AuditLogRow, CaseRow, EscalationRow, TaskRow
from db.types import utcnow


def _aware(moment: datetime) -> datetime:
    """Workflow times are UTC; a naive one is taken as UTC rather than refused (refusing would
    make the projection retry forever)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _case_fields(projection: Projection) -> dict[str, Any]:
    snapshot = projection.snapshot
    return {
        "person_key": projection.person_key,
        "id_number": projection.id_number,
        "person_name": snapshot.person_name,
        "region_code": snapshot.region_code,
        "organisation": snapshot.organisation,
        "has_employer": snapshot.has_employer,
        "stage": str(snapshot.stage),
        "path": str(snapshot.path) if snapshot.path is not None else None,
        "category": str(snapshot.category),
        "retirement_month": str(snapshot.deadlines.retirement_month),
        "next_due": snapshot.next_due(),
        "next_due_estimated": snapshot.next_due_estimated(),
        "overdue": snapshot.is_overdue(),
        "pending_departments": ",".join(d.value for d in snapshot.pending_departments()),
        "version": snapshot.version,
        "snapshot": snapshot.model_dump(mode="json"),
        "updated_at": utcnow(),
    }


def _first_seen(snapshot: CaseSnapshot) -> datetime:
    """When the case began: its first event (or first task), else now."""
    moments = [e.at for e in snapshot.events] + [t.opened_at for t in snapshot.tasks]
    return _aware(min(moments, key=_aware)) if moments else utcnow()


def _closed_at(snapshot: CaseSnapshot, stored: datetime | None) -> datetime | None:
    """When a terminal stage was reached: its last event (kept once set)."""
    if not snapshot.stage.terminal:
        return None
    if stored is not None:
        return stored
    return _aware(max((e.at for e in snapshot.events), key=_aware)) if snapshot.events else utcnow()


def _task_fields(task: Task, region_code: str) -> dict[str, Any]:
    return {
        "kind": str(task.kind),
        "title": task.title,
        "assignee": str(task.assignee),
        "department": str(task.department) if task.department is not None else None,
        "organisation": task.organisation,
        "region_code": region_code,
        "status": str(task.status),
        "due": task.due,
        "due_estimated": task.due_estimated,
        "escalated": task.escalated,
        "if_rejected": task.if_rejected,
        "attempt": task.attempt,
        "opened_at": _aware(task.opened_at),
        "closed_at": _aware(task.closed_at) if task.closed_at is not None else None,
        "outcome": str(task.outcome) if task.outcome is not None else None,
    }


def _audit_values(entry: AuditEntry) -> dict[str, Any]:
    actor = entry.actor
    return dict(
        entry_id=entry.id,
        case_id=entry.case_id,
        at=_aware(entry.at),
        actor_id=actor.id,
        actor_role=str(actor.role),
        actor_department=str(actor.department) if actor.department is not None else None,
        actor_region=actor.region,
        actor_organisation=actor.organisation,
        at_counter=actor.at_counter,
        action=entry.action,
        detail=entry.detail,
        result=entry.result,
    )


def stored_snapshot(sessions: sessionmaker[Session], case_id: str) -> CaseSnapshot | None:
    """The case's last projected snapshot (``None`` before its first projection); only that
    column is read."""
    with sessions() as db:
        stored = db.scalar(select(CaseRow.snapshot).where(CaseRow.case_id == case_id))
    return None if stored is None else CaseSnapshot.model_validate(stored)


def stored_version(sessions: sessionmaker[Session], case_id: str) -> int | None:
    """The version of the case's last projection (``None`` before its first one)."""
    with sessions() as db:
        return db.scalar(select(CaseRow.version).where(CaseRow.case_id == case_id))


def accept_next_projection(sessions: sessionmaker[Session], case_id: str) -> None:
    """Let the case's next projection in whatever its version: after a reset (``retirement
    doctor``) the new run counts versions again from the reset point, and projections not newer
    than the stored version would be ignored."""
    with sessions.begin() as db:
        db.execute(update(CaseRow).where(CaseRow.case_id == case_id).values(version=0))


class DatabaseReadModel:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def project(self, projection: Projection) -> None:
        """Apply one projection in one transaction (see the module docstring for the rules)."""
        with self._sessions.begin() as session:
            if self._upsert_case(session, projection):
                self._upsert_tasks(session, projection)
                self._upsert_escalations(session, projection)
            self._append_audit(session, projection.audit)

    def _upsert_case(self, session: Session, projection: Projection) -> bool:
        """Write the case row if the projection is newer; whether it was."""
        fields = _case_fields(projection)
        snapshot = projection.snapshot
        row = session.get(CaseRow, projection.case_id, with_for_update=True)
        if row is None:
            new = CaseRow(
                case_id=projection.case_id,
                created_at=_first_seen(snapshot),
                closed_at=_closed_at(snapshot, None),
                **fields,
            )
            try:
                with session.begin_nested():
                    session.add(new)
                return True
            except IntegrityError:
                # A concurrent projection created the case first: compare with its version.
                row = session.get(
                    CaseRow, projection.case_id, with_for_update=True, populate_existing=True
                )
                if row is None:
                    raise
        if snapshot.version <= row.version:
            return False
        for name, value in fields.items():
            setattr(row, name, value)
        row.closed_at = _closed_at(snapshot, row.closed_at)
        session.flush()
        return True

    def _upsert_tasks(self, session: Session, projection: Projection) -> None:
        snapshot = projection.snapshot
        existing = {
            row.id: row
            for row in session.scalars(select(TaskRow).where(TaskRow.case_id == projection.case_id))
        }
        for task in snapshot.tasks:
            key = f"{projection.case_id}/{task.id}"
            fields = _task_fields(task, snapshot.region_code)
            row = existing.get(key)
            if row is None:
                session.add(TaskRow(id=key, case_id=projection.case_id, task_id=task.id, **fields))
            else:
                # Only the workflow's fields: the claim columns are the API's.
                for name, value in fields.items():
                    setattr(row, name, value)
        session.flush()

    def _upsert_escalations(self, session: Session, projection: Projection) -> None:
        snapshot = projection.snapshot
        for escalation in snapshot.escalations:
            key = f"{projection.case_id}/{escalation.id}"
            fields = {
                "case_id": projection.case_id,
                "department": str(escalation.department),
                "region_code": snapshot.region_code,
                "task_id": escalation.task_id,
                "reason": escalation.reason,
                "at": _aware(escalation.at),
            }
            row = session.get(EscalationRow, key)
            if row is None:
                session.add(EscalationRow(id=key, **fields))
            else:
                for name, value in fields.items():
                    setattr(row, name, value)
        session.flush()

    def _append_audit(self, session: Session, entries: list[AuditEntry]) -> None:
        """Insert the entries not there yet, each once by (case, entry id): one statement that
        skips those present, whoever inserted them (a selected-then-inserted batch in a
        savepoint took three, measured 3.8 against 1.2 ms of CPU per projection)."""
        if not entries:
            return
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert(AuditLogRow)
            .values([_audit_values(entry) for entry in entries])
            .on_conflict_do_nothing(index_elements=["case_id", "entry_id"])
        )
