"""The read model keeps the newest version of each case, never the API's claims, and each audit
entry once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.people import Department
from contracts.workflow import (
    Assignee,
    CaseSnapshot,
    Escalation,
    Outcome,
    Stage,
    TaskKind,
    TaskStatus,
)
from db.models import AuditLogRow, CaseRow, EscalationRow, TaskRow
from db.read_model import DatabaseReadModel
from tests.db import factories as f

CASE = "retirement-abc"


def _case(sessions: sessionmaker[Session], case_id: str = CASE) -> CaseRow:
    with sessions() as session:
        return session.get_one(CaseRow, case_id)


def _tasks(sessions: sessionmaker[Session]) -> dict[str, TaskRow]:
    with sessions() as session:
        return {row.task_id: row for row in session.scalars(select(TaskRow))}


def _audit_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(AuditLogRow.entry_id)))


def test_first_projection_creates_the_case_and_its_tasks(sessions: sessionmaker[Session]) -> None:
    snap = f.snapshot(version=1)
    DatabaseReadModel(sessions).project(f.projection(snap))
    row = _case(sessions)
    assert (row.person_key, row.id_number, row.person_name) == ("f" * 64, f.id_number(), "张三")
    assert (row.region_code, row.organisation, row.has_employer) == (f.REGION, f.EMPLOYER, True)
    assert (row.stage, row.path, row.category, row.retirement_month) == (
        "pre-review",
        "normal",
        "male",
        "2026-08",
    )
    assert row.version == 1
    assert CaseSnapshot.model_validate(row.snapshot) == snap
    assert row.created_at == f.T0
    assert row.closed_at is None
    task = _tasks(sessions)["t1"]
    assert task.id == f"{CASE}/t1"
    assert (task.kind, task.assignee, task.department, task.region_code, task.status) == (
        "pre-review",
        "clerk",
        "hr",
        f.REGION,
        "open",
    )
    assert (task.due, task.opened_at, task.claimed_by) == (date(2026, 3, 10), f.T0, None)


def test_newer_versions_replace_the_case_and_its_tasks(sessions: sessionmaker[Session]) -> None:
    model = DatabaseReadModel(sessions)
    model.project(f.projection(f.snapshot(version=1)))
    done = f.task("t1", status=TaskStatus.DONE)
    later = f.snapshot(
        version=3,
        stage=Stage.CONTRIBUTION_CHECK,
        tasks=[
            done.model_copy(update={"outcome": Outcome.APPROVE}),
            f.task(
                "t2",
                kind=TaskKind.CONFIRM_CONTRIBUTIONS,
                department=Department.SOCIAL_INSURANCE,
                due=date(2026, 6, 30),
            ),
        ],
    )
    model.project(f.projection(later))
    row = _case(sessions)
    assert (row.version, row.stage, row.pending_departments) == (
        3,
        "contribution-check",
        "social-insurance",
    )
    tasks = _tasks(sessions)
    assert (tasks["t1"].status, tasks["t1"].outcome) == ("done", "approve")
    assert tasks["t1"].closed_at == f.T0 + timedelta(days=1)
    assert tasks["t2"].status == "open"


def test_a_stale_projection_changes_nothing(sessions: sessionmaker[Session]) -> None:
    model = DatabaseReadModel(sessions)
    newest = f.snapshot(version=5, stage=Stage.JOINT_HANDLING, tasks=[f.task("t9")])
    model.project(f.projection(newest))
    before = _case(sessions)
    model.project(f.projection(f.snapshot(version=4, stage=Stage.PRE_REVIEW, tasks=[])))
    model.project(f.projection(f.snapshot(version=5, stage=Stage.REJECTED, tasks=[])))
    after = _case(sessions)
    assert (after.version, after.stage, after.updated_at) == (
        5,
        "joint-handling",
        before.updated_at,
    )
    assert CaseSnapshot.model_validate(after.snapshot) == newest
    assert set(_tasks(sessions)) == {"t9"}


def test_projections_never_overwrite_a_claim(sessions: sessionmaker[Session]) -> None:
    model = DatabaseReadModel(sessions)
    model.project(f.projection(f.snapshot(version=1)))
    claimed_at = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
    with sessions.begin() as session:  # what the API does when a clerk takes the task
        task = session.get_one(TaskRow, f"{CASE}/t1")
        task.claimed_by = "clerk-7"
        task.claimed_at = claimed_at
    escalated = f.task("t1", escalated=True, due=date(2026, 3, 12))
    model.project(f.projection(f.snapshot(version=2, tasks=[escalated])))
    task_row = _tasks(sessions)["t1"]
    assert (task_row.claimed_by, task_row.claimed_at) == ("clerk-7", claimed_at)
    assert (task_row.escalated, task_row.due) == (True, date(2026, 3, 12))


def test_each_audit_entry_is_inserted_once_whatever_the_version(
    sessions: sessionmaker[Session],
) -> None:
    model = DatabaseReadModel(sessions)
    e1, e2, e3, e4 = (f.audit(CASE, f"a{i}") for i in range(1, 5))
    model.project(f.projection(f.snapshot(version=2), [e1, e2]))
    model.project(f.projection(f.snapshot(version=2), [e1, e2]))  # a retried projection
    model.project(f.projection(f.snapshot(version=3), [e2, e3]))
    model.project(f.projection(f.snapshot(version=1), [e4]))  # late, but its entry is new
    assert _audit_ids(sessions) == ["a1", "a2", "a3", "a4"]
    with sessions() as session:
        row = session.scalars(select(AuditLogRow).where(AuditLogRow.entry_id == "a1")).one()
        assert (row.case_id, row.at, row.actor_id, row.actor_role, row.actor_department) == (
            CASE,
            f.T0,
            "clerk-1",
            "clerk",
            "hr",
        )
        assert (row.action, row.detail, row.result, row.at_counter) == (
            "decision",
            "approved",
            "accepted",
            False,
        )


def test_the_same_entry_id_in_two_cases_is_two_entries(sessions: sessionmaker[Session]) -> None:
    model = DatabaseReadModel(sessions)
    model.project(f.projection(f.snapshot("case-a"), [f.audit("case-a", "declared")]))
    model.project(f.projection(f.snapshot("case-b"), [f.audit("case-b", "declared")]))
    assert _audit_ids(sessions) == ["declared", "declared"]


def test_derived_columns(sessions: sessionmaker[Session]) -> None:
    tasks = [
        f.task("hr", department=Department.HR, due=date(2026, 4, 1)),
        f.task("fund", department=Department.PROVIDENT_FUND, due=date(2026, 3, 20)),
        f.task("hr2", department=Department.HR, due=None),
        f.task(
            "closed", department=Department.MEDICAL, status=TaskStatus.DONE, due=date(2026, 1, 1)
        ),
        f.task("employer", assignee=Assignee.ORGANISATION, due=date(2026, 3, 15)),
    ]
    DatabaseReadModel(sessions).project(f.projection(f.snapshot(tasks=tasks)))
    row = _case(sessions)
    assert row.pending_departments == "hr,provident-fund"
    assert row.next_due == date(2026, 3, 15)  # the employer's task is due first
    assert row.overdue is False


def test_overdue_from_the_snapshot_or_an_escalated_open_task(
    sessions: sessionmaker[Session],
) -> None:
    model = DatabaseReadModel(sessions)
    model.project(f.projection(f.snapshot("a", overdue=["declaration"])))
    model.project(f.projection(f.snapshot("b", tasks=[f.task("t1", escalated=True)])))
    closed_escalated = f.task("t1", escalated=True, status=TaskStatus.DONE)
    model.project(f.projection(f.snapshot("c", tasks=[closed_escalated])))
    assert [_case(sessions, c).overdue for c in "abc"] == [True, True, False]
    assert _case(sessions, "c").next_due is None


def test_a_terminal_stage_closes_the_case(sessions: sessionmaker[Session]) -> None:
    model = DatabaseReadModel(sessions)
    model.project(f.projection(f.snapshot(version=1, events=2)))
    assert _case(sessions).closed_at is None
    model.project(f.projection(f.snapshot(version=2, stage=Stage.COMPLETED, events=3, tasks=[])))
    assert _case(sessions).closed_at == f.T0 + timedelta(hours=2)  # the last event
    model.project(f.projection(f.snapshot(version=3, stage=Stage.COMPLETED, events=4, tasks=[])))
    assert _case(sessions).closed_at == f.T0 + timedelta(hours=2)  # kept once set


def test_escalations_are_upserted(sessions: sessionmaker[Session]) -> None:
    model = DatabaseReadModel(sessions)
    first = Escalation(
        id="e1", at=f.T0, department=Department.HR, reason="pre-review overdue", task_id="t1"
    )
    model.project(f.projection(f.snapshot(version=1, escalations=[first])))
    second = Escalation(id="e2", at=f.T0, department=Department.MEDICAL, reason="no answer")
    changed = first.model_copy(update={"reason": "pre-review overdue (2nd notice)"})
    model.project(f.projection(f.snapshot(version=2, escalations=[changed, second])))
    with sessions() as session:
        rows = {row.id: row for row in session.scalars(select(EscalationRow))}
    assert set(rows) == {f"{CASE}/e1", f"{CASE}/e2"}
    e1 = rows[f"{CASE}/e1"]
    assert (e1.reason, e1.department, e1.region_code, e1.task_id, e1.at) == (
        "pre-review overdue (2nd notice)",
        "hr",
        f.REGION,
        "t1",
        f.T0,
    )
    assert rows[f"{CASE}/e2"].task_id is None


def test_concurrent_projections_end_at_the_newest_version(
    sessions: sessionmaker[Session],
) -> None:
    versions = [3, 1, 8, 5, 2, 7, 4, 6]  # out of order, as late activities deliver them
    start = threading.Barrier(4)
    model = DatabaseReadModel(sessions)

    def project(version: int) -> None:
        if version in versions[:4]:
            start.wait(timeout=10)
        snap = f.snapshot(version=version, tasks=[f.task(f"t{version}")])
        model.project(f.projection(snap, [f.audit(CASE, "shared"), f.audit(CASE, f"a{version}")]))

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(project, v) for v in versions]:
            future.result(timeout=30)
    row = _case(sessions)
    assert row.version == 8
    assert CaseSnapshot.model_validate(row.snapshot).tasks[0].id == "t8"
    assert "t8" in _tasks(sessions)
    assert _audit_ids(sessions) == sorted(["shared", *(f"a{v}" for v in versions)])
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CaseRow)) == 1


def test_the_inbox_says_why_a_due_date_is_estimated(sessions: sessionmaker[Session]) -> None:
    """A task whose due date falls in a year without the official holiday calendar is listed
    with the same sentence the CLI and the rules API give (``domain.workdays``)."""
    from api.queries import InboxFilter, inbox
    from domain.workdays import estimate_note

    snap = f.snapshot(version=1)
    exact = f.task("pre-review-1", due=date(2026, 12, 15))
    estimated = f.task("household-review-1", due=date(2027, 1, 12)).model_copy(
        update={"due_estimated": True}
    )
    snap = snap.model_copy(update={"tasks": [exact, estimated]})
    DatabaseReadModel(sessions).project(f.projection(snap))
    with sessions() as db:
        page = inbox(db, InboxFilter(department="hr", region=f.REGION), limit=10, offset=0)
    notes = {task.task_id: (task.due_estimated, task.due_note) for task in page.items}
    assert notes == {
        "pre-review-1": (False, None),
        "household-review-1": (True, estimate_note(2027)),
    }
    assert "2027 is not published yet" in estimate_note(2027)


def test_a_case_says_when_its_next_due_date_is_estimated(sessions: sessionmaker[Session]) -> None:
    """The supervisor's case list marks an estimated next due date, as the inbox marks tasks."""
    from api.queries import case_summary
    from domain.workdays import estimate_note

    exact = f.task("pre-review-1", due=date(2026, 12, 15))
    later = f.task("household-review-1", due=date(2027, 1, 12)).model_copy(
        update={"due_estimated": True}
    )
    snap = f.snapshot(version=1).model_copy(update={"tasks": [exact, later]})
    DatabaseReadModel(sessions).project(f.projection(snap))
    row = _case(sessions)
    assert (row.next_due, row.next_due_estimated) == (date(2026, 12, 15), False)
    assert case_summary(row).next_due_note is None

    closed = exact.model_copy(update={"status": TaskStatus.DONE, "closed_at": f.T0})
    snap = snap.model_copy(update={"version": 2, "tasks": [closed, later]})
    DatabaseReadModel(sessions).project(f.projection(snap))
    row = _case(sessions)
    assert (row.next_due, row.next_due_estimated) == (date(2027, 1, 12), True)
    assert case_summary(row).next_due_note == estimate_note(2027)
