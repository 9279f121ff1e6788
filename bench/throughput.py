"""Throughput: N complete cases through the project's workflow against N runs of the raw
baseline with the same activities and updates, on the same server in the same run.

Both are driven the same way, as fast as the engine takes them: a driver per case looks at the
case's state, sends the update it is waiting for at once, and otherwise looks again after
``poll`` seconds. Each looks where its clients would: the project's driver
(``harness.driver.Driver``: the Updates the API sends, approve everything, each answer written
to the read model as the API writes it) reads the read model, as the API does; the baseline has
nothing but its workflow, so its driver queries it. The project's drivers share one query of
the cases' versions per ``poll`` (``VersionWatch``). Department activities run in the project's
worker process, the baseline's no-op activities in its own worker process.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from bench.people import people, seed
from bench.raw import Phase, RawCase, RawPlan
from bench.rig import Rig
from contracts.workflow import CaseOutcome, CaseSnapshot, Stage
from db.models import CaseRow
from db.read_model import stored_snapshot
from harness.driver import Driver, ReadModelView, Script, Step
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


class VersionWatch:
    """The read model's version of every case of a run, read in one query per ``poll``: the
    drivers stand in for clients on their own devices, whose looks cost the service nothing
    but the read, so the bench's process should not spend more on them than that read."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.versions: dict[str, int] = {}

    def refresh(self) -> None:
        ids = list(self.versions)
        with self._sessions() as db:
            rows = db.execute(
                select(CaseRow.case_id, CaseRow.version).where(CaseRow.case_id.in_(ids))
            )
            self.versions.update({case_id: version for case_id, version in rows})

    async def keep(self, poll: float) -> None:
        while True:
            await asyncio.to_thread(self.refresh)
            await asyncio.sleep(poll)


class WatchedView(ReadModelView):
    """A case's read model as the watch sees it: the snapshot is read only when its version
    moved."""

    def __init__(self, watch: VersionWatch, sessions: sessionmaker[Session], case_id: str) -> None:
        super().__init__(sessions, case_id)
        self._watch = watch
        watch.versions.setdefault(case_id, -1)

    async def look(self) -> CaseSnapshot | None:
        version = self._watch.versions[self._case_id]
        if self._last is not None and version <= self._last.version:
            return self._last
        if version < 0:
            return None
        self._last = await asyncio.to_thread(stored_snapshot, self._sessions, self._case_id)
        return self._last


async def project(rig: Rig, first_serial: int, cases: int, poll: float) -> Run:
    """``cases`` normal cases from declaration to completion."""
    cast = people(first_serial, cases)
    for who, _ in cast:
        await asyncio.to_thread(seed, rig.cluster.departments, who)
    watch = VersionWatch(rig.sessions)

    async def one(index: int) -> str:
        who, declaration = cast[index]
        started = await rig.start(who, declaration)
        driver = Driver(
            started.handle,
            who,
            started.person_key,
            Script(declaration=declaration),
            view=WatchedView(watch, rig.sessions, started.case_id),
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
    watching = asyncio.create_task(watch.keep(poll))
    try:
        ids = await asyncio.gather(*(one(i) for i in range(cases)))
    finally:
        watching.cancel()
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
