"""``api.queries.inbox`` on each database: earliest due first, tasks without a due date last, and
a page read in the inbox index's order instead of sorting every open task of the region."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from api.queries import InboxFilter, inbox, inbox_statements
from db.models import CaseRow, TaskRow
from tests.db import factories as f

WHERE = InboxFilter(department="hr", region=f.REGION)


def _case(case_id: str, stage: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "person_key": case_id,
        "id_number": f.id_number(),
        "person_name": "张三",
        "region_code": f.REGION,
        "organisation": f.EMPLOYER,
        "has_employer": True,
        "stage": stage,
        "path": None,
        "category": "male",
        "retirement_month": "2027-06",
        "next_due": None,
        "next_due_estimated": False,
        "overdue": False,
        "pending_departments": "",
        "version": 1,
        "snapshot": {},
        "created_at": f.T0,
        "updated_at": f.T0,
        "closed_at": None,
    }


def _task(case_id: str, due: date | None, minute: int, *, status: str = "open") -> dict[str, Any]:
    return {
        "id": f"{case_id}/t",
        "case_id": case_id,
        "task_id": "t",
        "kind": "pre-review",
        "title": "预审",
        "assignee": "clerk",
        "department": "hr",
        "organisation": None,
        "region_code": f.REGION,
        "status": status,
        "due": due,
        "due_estimated": False,
        "escalated": False,
        "opened_at": f.T0 + timedelta(minutes=minute),
        "closed_at": None,
        "outcome": None,
        "claimed_by": None,
        "claimed_at": None,
    }


def _fill(sessions: sessionmaker[Session]) -> None:
    soon, later = date(2027, 1, 4), date(2027, 1, 8)
    tasks = [
        _task("c-undated", None, 0),
        _task("c-later", later, 1),
        _task("c-soon-second", soon, 5),
        _task("c-soon-first", soon, 3),
        _task("c-done", soon, 0, status="done"),
    ]
    stages = {"c-later": "joint-handling"}
    with sessions.begin() as session:
        session.execute(
            insert(CaseRow),
            [_case(t["case_id"], stages.get(t["case_id"], "pre-review")) for t in tasks],
        )
        session.execute(insert(TaskRow), tasks)


def _ids(sessions: sessionmaker[Session], where: InboxFilter, limit: int, offset: int) -> Any:
    with sessions() as session:
        page = inbox(session, where, limit, offset)
    return [t.case_id for t in page.items], page.total


def test_earliest_due_first_ties_by_opening_and_undated_last(
    sessions: sessionmaker[Session],
) -> None:
    _fill(sessions)
    order = ["c-soon-first", "c-soon-second", "c-later", "c-undated"]
    assert _ids(sessions, WHERE, 50, 0) == (order, 4)
    assert _ids(sessions, WHERE, 2, 1) == (order[1:3], 4)
    # A case's column among the filters: counted through the join.
    staged = InboxFilter(department="hr", region=f.REGION, stage="joint-handling")
    assert _ids(sessions, staged, 50, 0) == (["c-later"], 1)
    done = InboxFilter(department="hr", region=f.REGION, status="done")
    assert _ids(sessions, done, 50, 0) == (["c-done"], 1)


def test_a_page_is_read_in_index_order(sessions: sessionmaker[Session], backend: str) -> None:
    """With sorting made prohibitively dear (PostgreSQL), or a sort shown as a temporary B-tree
    (SQLite), the inbox's page needs none: its order is the index's."""
    _fill(sessions)
    with sessions() as session:
        _, page = inbox_statements(WHERE, 50, 0)
        sql = str(page.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        if backend == "postgresql":
            session.execute(text("SET LOCAL enable_sort = off"))
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(session.scalars(text("EXPLAIN " + sql)))
            assert "ix_tasks_inbox" in plan and "Sort" not in plan, plan
        else:
            rows = session.execute(text("EXPLAIN QUERY PLAN " + sql))
            plan = "\n".join(str(row[-1]) for row in rows)
            assert "ix_tasks_inbox" in plan and "TEMP B-TREE" not in plan, plan
