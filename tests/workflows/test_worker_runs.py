"""The workflows and the department steps in workers of their own (``WORKER_RUNS``), polling one
task queue, as ``docker-compose.yml`` and ``make run`` deploy them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from temporalio.testing import WorkflowEnvironment

from contracts.declarations import Declaration
from contracts.workflow import Stage
from domain.policy import Policy
from tests.workflows.conftest import Harness, stage_is
from tests.workflows.fakes import FakeDepartments
from tests.workflows.helpers import to_joint_handling
from tests.workflows.people import retiree_from_now
from worker import build_worker


@pytest.fixture
async def apart(env: WorkflowEnvironment, policy: Policy) -> AsyncIterator[Harness]:
    fakes = FakeDepartments()
    task_queue = f"apart-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=8) as executor:
        workflows = build_worker(env.client, task_queue, None, None, runs="workflows")
        steps = build_worker(env.client, task_queue, fakes.systems(), executor, runs="activities")
        async with workflows, steps:
            yield Harness(env, fakes, task_queue, policy)


async def test_a_case_runs_its_steps_with_workflows_and_activities_in_different_workers(
    apart: Harness,
) -> None:
    man = await retiree_from_now(apart, months_ahead=2)
    handle = await apart.start(man.person, Declaration(contribution_years=Decimal(30)))
    await to_joint_handling(apart, handle, window_opens=man.timeline.initiation_opens)
    await stage_is(handle, Stage.JOINT_HANDLING)
    # The department steps and the read model's projections ran in the other worker.
    assert apart.fakes.calls["receive_prereview"] == 1
    assert apart.fakes.projections[handle.id].snapshot.stage is Stage.JOINT_HANDLING


async def test_each_worker_takes_only_its_part(env: WorkflowEnvironment) -> None:
    fakes = FakeDepartments()
    client, systems = env.client, fakes.systems()
    with ThreadPoolExecutor(max_workers=2) as executor:
        # A task queue each: the SDK allows one worker per task queue and client.
        workflows = build_worker(client, "q1", None, None, runs="workflows").config()
        steps = build_worker(client, "q2", systems, executor, runs="activities").config()
        both = build_worker(client, "q3", systems, executor).config()
    assert workflows["workflows"] and not workflows.get("activities")
    assert steps["activities"] and not steps.get("workflows")
    assert both["workflows"] and both["activities"]
    with pytest.raises(ValueError, match="needs the department systems"):
        build_worker(client, "q4", None, None, runs="activities")
