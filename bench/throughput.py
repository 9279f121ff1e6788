"""Throughput: N complete cases through the project's workflow against N runs of the raw
baseline with the same activities and updates, on the same server in the same run.

Both are driven the same way, as fast as the engine takes them: a driver per case looks at the
case's state, sends the update it is waiting for at once, and otherwise looks again after
``poll`` seconds. Each looks where its clients would: the project's driver
(``harness.driver.Driver``: the Updates the API sends, approve everything) reads the read model,
as the API does, which the workflow writes before it answers an update; the baseline has nothing
but its workflow, so its driver queries it. Department activities run in the project's worker
process, the baseline's no-op activities in its own worker process.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from bench.people import people, seed
from bench.raw import Phase, RawCase, RawPlan
from bench.rig import Rig
from contracts.workflow import CaseOutcome, Stage
from harness.driver import Driver, Script, Step, read_model_look
from workflows.case import RetirementCase

CASE_TIMEOUT = 600.0


@dataclass
class Run:
    """One side of the comparison."""

    cases: int
    seconds: float
    workflow_ids: list[str] = field(default_factory=list)

    def plus(self, other: Run) -> Run:
        return Run(
            cases=self.cases + other.cases,
            seconds=round(self.seconds + other.seconds, 2),
            workflow_ids=self.workflow_ids + other.workflow_ids,
        )

    @property
    def per_second(self) -> float:
        return round(self.cases / self.seconds, 2) if self.seconds else 0.0


async def project(rig: Rig, first_serial: int, cases: int, poll: float) -> Run:
    """``cases`` normal cases from declaration to completion."""
    cast = people(first_serial, cases)
    for who, _ in cast:
        await asyncio.to_thread(seed, rig.cluster.departments, who)

    async def one(index: int) -> str:
        who, declaration = cast[index]
        started = await rig.start(who, declaration)
        driver = Driver(
            started.handle,
            who,
            started.person_key,
            Script(declaration=declaration),
            look=read_model_look(rig.sessions, started.case_id),
        )
        deadline = time.monotonic() + CASE_TIMEOUT
        while True:
            result = await driver.step(None)
            if result is Step.DONE:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"case {started.case_id} stuck at {driver.last}")
            if result is not Step.ACTED:
                await asyncio.sleep(poll)
        outcome: CaseOutcome = await started.handle.result()
        if outcome.stage is not Stage.COMPLETED:
            raise RuntimeError(f"case {started.case_id} ended {outcome.stage}")
        return started.case_id

    if not cases:
        return Run(cases=0, seconds=0.0)
    began = time.monotonic()
    ids = await asyncio.gather(*(one(i) for i in range(cases)))
    return Run(cases=cases, seconds=round(time.monotonic() - began, 2), workflow_ids=list(ids))


async def raw(rig: Rig, plan: RawPlan, cases: int, poll: float) -> Run:
    """``cases`` runs of the baseline workflow with ``plan``."""

    async def one() -> str:
        workflow_id = f"raw-{uuid.uuid4().hex[:12]}"
        handle: WorkflowHandle[RawCase, int] = await rig.raw_client.start_workflow(
            RawCase.run, plan, id=workflow_id, task_queue=rig.raw_queue
        )
        deadline = time.monotonic() + CASE_TIMEOUT
        while True:
            phase = await handle.query(RawCase.phase)
            if phase is Phase.DONE:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw case {workflow_id} stuck")
            if phase is Phase.WAITING:
                try:
                    await handle.execute_update(RawCase.decide, uuid.uuid4().hex)
                    continue
                except WorkflowUpdateFailedError:
                    pass  # moved on meanwhile: look again
            await asyncio.sleep(poll)
        if await handle.result() != plan.updates:
            raise RuntimeError(f"raw case {workflow_id} missed updates")
        return workflow_id

    if not cases:
        return Run(cases=0, seconds=0.0)
    began = time.monotonic()
    ids = await asyncio.gather(*(one() for _ in range(cases)))
    return Run(cases=cases, seconds=round(time.monotonic() - began, 2), workflow_ids=list(ids))


async def probe(rig: Rig, serial: int, poll: float) -> str:
    """One case on its own, to learn the shape of a normal case for the baseline (and warm the
    worker up)."""
    run = await project(rig, serial, 1, poll)
    return run.workflow_ids[0]


def handle_of(rig: Rig, case_id: str) -> WorkflowHandle[RetirementCase, CaseOutcome]:
    return rig.client.get_workflow_handle_for(RetirementCase.run, case_id)
