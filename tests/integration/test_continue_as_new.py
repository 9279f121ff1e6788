"""A case that outgrows its history continues as new at a stage boundary, losing nothing.

The dev server is told to suggest continue-as-new after a few dozen events, so a single case
crosses several runs; it must end exactly as if it had one: same tasks, decisions, story, and a
request applied in an earlier run still refused as a duplicate in a later one.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from adapters.departments import Platform
from contracts import search
from contracts.people import Actor, Department, Role
from contracts.workflow import Decision, Outcome, RefusalType, Stage
from db.session import make_engine, make_sessionmaker
from domain.policy import Policy
from harness.binaries import temporal_cli
from harness.department_simulator import DepartmentSimulator
from harness.driver import Driver, ReadModelView, Script
from service.case_start import start_case
from service.temporal import DATA_CONVERTER
from tests.integration.support import illness_case_retiring_next_month
from worker import DepartmentSystems, build_worker
from workflows.case import RetirementCase

REGION = "220102"


@pytest.fixture(scope="module")
async def small_history_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=temporal_cli(),
        search_attributes=search.ALL,
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=40",
        ],
    )
    yield env
    await env.shutdown()


async def test_a_case_continues_as_new_and_ends_the_same(
    small_history_server: WorkflowEnvironment,
    database_url: str,
    departments: DepartmentSimulator,
    platform: Platform,
    policy: Policy,
) -> None:
    client = small_history_server.client
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    person, declaration = illness_case_retiring_next_month()
    departments.seed(person.id_number, person.name, actual_years=Decimal(16))
    task_queue = f"can-{uuid.uuid4().hex[:8]}"
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            systems = DepartmentSystems.over(platform, sessions)
            async with build_worker(client, task_queue, systems, executor):
                started = await start_case(
                    client,
                    person=person,
                    policy=policy,
                    secret=b"can-test",
                    task_queue=task_queue,
                    declaration=declaration,
                    declared_by=Actor(id="o", role=Role.EMPLOYER, organisation="emp-can-1"),
                    request_id="declare-can",
                )
                driver = Driver(
                    started.handle,
                    person,
                    started.person_key,
                    Script(declaration=declaration),
                    until=Stage.AWAITING_INITIATION,
                    view=ReadModelView(sessions, started.case_id),
                )
                snap = await driver.run(timeout=60)
                assert snap.stage is Stage.AWAITING_INITIATION
                first_decision = snap.decisions[0]
                driver.until = None
                final = await driver.run(timeout=90)
                assert final.stage is Stage.COMPLETED, final.closed_reason
                await started.handle.result()

                # It did continue as new, at least once.
                first_run = client.get_workflow_handle(
                    started.case_id, run_id=started.handle.first_execution_run_id
                )
                first_history = await first_run.fetch_history()
                assert first_history.events[-1].event_type == (
                    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
                )
                described = await client.get_workflow_handle(started.case_id).describe()
                assert described.run_id != started.handle.first_execution_run_id

                # Nothing was lost across runs: every decision, task and line of the story.
                assert final.decisions[0] == first_decision
                assert len(final.decisions) >= 6
                assert [e.event for e in final.events][: len(snap.events)] == [
                    e.event for e in snap.events
                ]
                assert not final.open_tasks()
                assert final.pension is not None
                assert final.late_declaration  # T-6 was months ago
    finally:
        engine.dispose()


async def test_a_request_from_an_earlier_run_is_still_a_duplicate(
    small_history_server: WorkflowEnvironment,
    database_url: str,
    departments: DepartmentSimulator,
    platform: Platform,
    policy: Policy,
) -> None:
    client = small_history_server.client
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    person, declaration = illness_case_retiring_next_month()
    departments.seed(person.id_number, person.name, actual_years=Decimal(16))
    task_queue = f"can-{uuid.uuid4().hex[:8]}"
    hr = Actor(id="hr-1", role=Role.CLERK, department=Department.HR, region=REGION)
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            systems = DepartmentSystems.over(platform, sessions)
            async with build_worker(client, task_queue, systems, executor):
                started = await start_case(
                    client,
                    person=person,
                    policy=policy,
                    secret=b"can-test-2",
                    task_queue=task_queue,
                    declaration=declaration,
                    declared_by=Actor(id="o", role=Role.EMPLOYER, organisation="emp-can-1"),
                    request_id="declare-can-2",
                )
                driver = Driver(
                    started.handle,
                    person,
                    started.person_key,
                    Script(),
                    view=ReadModelView(sessions, started.case_id),
                )
                driver.until = Stage.AWAITING_INITIATION
                snap = await driver.run(timeout=60)
                pre_review = next(d for d in snap.decisions if d.task_kind.value == "pre-review")
                current = await client.get_workflow_handle(started.case_id).describe()
                assert current.run_id != started.handle.first_execution_run_id
                with pytest.raises(WorkflowUpdateFailedError) as refused:
                    await client.get_workflow_handle(started.case_id).execute_update(
                        RetirementCase.decide,
                        Decision(
                            request_id=pre_review.request_id,
                            task_id=pre_review.task_id,
                            outcome=Outcome.APPROVE,
                            actor=hr,
                        ),
                    )
                assert isinstance(refused.value.cause, ApplicationError)
                assert refused.value.cause.type == RefusalType.DUPLICATE
                await client.get_workflow_handle(started.case_id).terminate("test over")
    finally:
        engine.dispose()
