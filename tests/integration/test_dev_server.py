"""On a real local Temporal dev server: search attributes, updates, visibility and the read model,
with the database-backed department systems on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from adapters.departments import Platform
from contracts import search
from contracts.declarations import Declaration
from contracts.people import Actor, Department, Person, Role
from contracts.workflow import Decision, Outcome, RefusalType, Stage, TaskKind
from db.models import AuditLogRow, CaseRow, TaskRow
from db.read_model import stored_snapshot
from db.session import make_engine, make_sessionmaker
from domain.policy import Category, Policy
from harness.department_simulator import DepartmentSimulator
from service.case_start import start_case
from tests.support.people import fixed_id_number
from worker import DepartmentSystems, build_worker
from workflows.case import RetirementCase

SECRET = b"dev-server-test-key"
REGION = "220102"


def _person(serial: int) -> Person:
    return Person(
        id_number=fixed_id_number(date(1967, 1, 15), serial, region=REGION),
        name="王建国",
        category=Category.MALE,
        region_code=REGION,
        employer_id="emp-dev-1",
    )


async def _eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


async def test_search_attributes_updates_and_read_model(
    dev_server: WorkflowEnvironment,
    database_url: str,
    departments: DepartmentSimulator,
    platform: Platform,
    policy: Policy,
) -> None:
    client: Client = dev_server.client
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    who = _person(serial=uuid.uuid4().int % 400)
    departments.seed(who.id_number, who.name)
    task_queue = f"dev-{uuid.uuid4().hex[:8]}"
    employer = Actor(id="officer", role=Role.EMPLOYER, organisation="emp-dev-1")
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            systems = DepartmentSystems.over(platform, sessions)
            async with build_worker(client, task_queue, systems, executor):
                started = await start_case(
                    client,
                    person=who,
                    policy=policy,
                    secret=SECRET,
                    task_queue=task_queue,
                    declaration=Declaration(contribution_years=Decimal(30)),
                    declared_by=employer,
                    request_id="declare-1",
                )
                assert started.created
                assert who.id_number not in started.case_id  # no personal data in the id
                again = await start_case(
                    client, person=who, policy=policy, secret=SECRET, task_queue=task_queue
                )
                assert not again.created  # one open case per person
                assert again.case_id == started.case_id
                handle = started.handle

                async def pre_review_task() -> Any:
                    snap = stored_snapshot(sessions, started.case_id)  # as the API reads it
                    if snap is None:
                        return None
                    return next(
                        (t for t in snap.open_tasks() if t.kind is TaskKind.PRE_REVIEW), None
                    )

                task = await _eventually(pre_review_task)

                # Visibility: admins find the case by stage, region and pending department.
                query = (
                    f"RetirementStage = 'pre-review' AND RetirementRegion = '{REGION}' AND "
                    f"RetirementPendingDepartments = 'hr' AND WorkflowId = '{started.case_id}'"
                )

                async def listed() -> bool:
                    return [w.id async for w in client.list_workflows(query)] == [started.case_id]

                await _eventually(listed)
                described = await handle.describe()
                attributes = described.typed_search_attributes
                assert attributes.get(search.RETIREMENT_MONTH) == "2027-08"
                assert attributes.get(search.OVERDUE) is False
                assert attributes.get(search.NEXT_DEADLINE) is not None
                summary = await described.static_summary()
                assert summary is not None
                assert "2027-08" in summary
                assert who.name not in summary

                # A refused update: validated before anything is written.
                wrong_region = Decision(
                    request_id="d-wrong",
                    task_id=task.id,
                    outcome=Outcome.APPROVE,
                    actor=Actor(id="c", role=Role.CLERK, department=Department.HR, region="220202"),
                )
                with pytest.raises(WorkflowUpdateFailedError) as refused:
                    await handle.execute_update(RetirementCase.decide, wrong_region)
                assert isinstance(refused.value.cause, ApplicationError)
                assert refused.value.cause.type == RefusalType.WRONG_REGION

                status = await handle.execute_update(
                    RetirementCase.decide,
                    Decision(
                        request_id="d-1",
                        task_id=task.id,
                        outcome=Outcome.APPROVE,
                        actor=Actor(
                            id="c", role=Role.CLERK, department=Department.HR, region=REGION
                        ),
                    ),
                    id="d-1",
                )
                assert status.stage is Stage.PRE_REVIEW  # answered before the next step ran

                async def moved_on() -> bool:
                    found = [
                        w.id
                        async for w in client.list_workflows(
                            f"WorkflowId = '{started.case_id}' AND "
                            "RetirementStage = 'contribution-check'"
                        )
                    ]
                    return bool(found)

                await _eventually(moved_on)

                def read_model() -> tuple[str | None, int, int]:
                    with sessions() as session:
                        row = session.get(CaseRow, started.case_id)
                        tasks = session.scalar(
                            select(func.count()).where(TaskRow.case_id == started.case_id)
                        )
                        audit = session.scalar(
                            select(func.count()).where(AuditLogRow.case_id == started.case_id)
                        )
                        return (row.stage if row else None, tasks or 0, audit or 0)

                async def projected() -> bool:
                    stage, tasks, audit = read_model()
                    return stage == "contribution-check" and tasks >= 2 and audit >= 2

                await _eventually(projected)
                history = await handle.fetch_history()
                accepted = [
                    e
                    for e in history.events
                    if e.HasField("workflow_execution_update_accepted_event_attributes")
                ]
                assert len(accepted) == 1  # the refused update left no trace
                _assert_upserts_change_something(history.events)
                await handle.terminate("test over")
    finally:
        engine.dispose()


def _assert_upserts_change_something(events: Sequence[Any]) -> None:
    """Every search-attribute upsert sets only attributes whose value changes from what the run
    upserted before (an unchanged one is an event and a billable action for nothing), and at
    least one."""
    held: dict[str, bytes] = {}
    upserts = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for e in events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    assert upserts
    for fields in upserts:
        assert fields, "an upsert that sets nothing"
        for name, payload in fields.items():
            assert held.get(name) != payload.data, f"{name} upserted unchanged"
            held[name] = payload.data
