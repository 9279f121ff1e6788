"""Plays the people around a case (employer, agency, retiree, clerks) until it reaches a stage.

Used by ``retirement demo`` (on the time-skipping server, where it also moves the clock), by
``make run`` to seed demo cases at different stages, and by tests, benchmarks and chaos runs.
Every action goes through the same Updates the API sends, so it exercises the real validators,
and every look is at the read model, as the API's clients see the case.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowUpdateFailedError

from contracts.declarations import Declaration
from contracts.people import Actor, Department, Person, Role
from contracts.read_model import Answer, Projection
from contracts.workflow import (
    CaseSnapshot,
    Decision,
    Declare,
    Initiate,
    Outcome,
    Resubmit,
    Settle,
    Stage,
    Task,
    TaskKind,
)
from db.read_model import DatabaseReadModel, stored_snapshot, stored_version
from domain.timeline import CHINA_TZ
from service.case_start import CaseHandle
from workflows.case import RetirementCase

Advance = Callable[[datetime], Awaitable[None]]

_STAGE_ORDER = list(Stage)


class CaseView(Protocol):
    """Where a driver sees a case and records what its Updates answer."""

    async def look(self) -> CaseSnapshot | None: ...

    async def record(self, projection: Projection) -> None: ...


class ReadModelView:
    """The read model, as the API uses it: a look reads the case there (the snapshot only when
    its version moved, as a client holding an ETag would), and an Update's answer is written
    there before the driver looks again, as the API writes it before it answers."""

    def __init__(self, sessions: sessionmaker[Session], case_id: str) -> None:
        self._sessions = sessions
        self._case_id = case_id
        self._last: CaseSnapshot | None = None

    async def look(self) -> CaseSnapshot | None:
        return await asyncio.to_thread(self._look)

    def _look(self) -> CaseSnapshot | None:
        last = self._last
        if last is None or stored_version(self._sessions, self._case_id) != last.version:
            self._last = stored_snapshot(self._sessions, self._case_id)
        return self._last

    async def record(self, projection: Projection) -> None:
        await asyncio.to_thread(DatabaseReadModel(self._sessions).project, projection)
        # What the read model now holds, unless a newer version was there (the next look
        # compares the versions and reloads then).
        self._last = projection.snapshot


def clerk_for(department: Department, region: str, *, at_counter: bool = False) -> Actor:
    return Actor(
        id=f"{department}-clerk-{region}",
        role=Role.CLERK,
        department=department,
        region=region,
        at_counter=at_counter,
    )


def organisation_actor(person: Person) -> Actor:
    role = Role.EMPLOYER if person.has_employer else Role.AGENCY
    return Actor(id=f"{person.organisation}-officer", role=role, organisation=person.organisation)


@dataclass
class Script:
    """How the people behave: approve everything by default; override per case."""

    declaration: Declaration | None = None
    # (task, how many tasks of this kind came before) -> outcome and reason
    decide: Callable[[Task, int], tuple[Outcome, str | None]] = field(
        default=lambda _task, _n: (Outcome.APPROVE, None)
    )
    correction: Callable[[Declaration | None], Declaration] | None = None
    think_time: timedelta = timedelta(0)  # simulated time between actions (time skipping)
    first_action_at: datetime | None = None  # nobody acts before then (time skipping)


class Step(Enum):
    ACTED = "acted"  # did something: look again at once
    BUSY = "busy"  # nothing to do while the workflow works (activities running)
    DONE = "done"  # reached the stage asked for, or the case ended


@dataclass(frozen=True)
class Waiting:
    """Nothing to do before ``until`` on the case's clock (a window, a clerk's think time)."""

    until: datetime


@dataclass
class Driver:
    handle: CaseHandle
    person: Person
    person_key: str
    script: Script = field(default_factory=Script)
    until: Stage | None = None
    seen: dict[TaskKind, int] = field(default_factory=dict)
    last: CaseSnapshot | None = None
    answered: list[str] = field(default_factory=list)  # request ids of decisions accepted
    # Where the people see the case, as the API's clients do: the read model (``None`` while
    # the case is not projected yet: nothing to act on then). Never a query: the read model
    # shows only what a completed workflow task committed, while a query to a running case can
    # make a worker apply events no workflow task has started; a decision sent on what it
    # showed can split the case's history so that it never replays (docs/reliability.md).
    view: CaseView = field(kw_only=True)
    _ready_at: datetime | None = None
    _acted_at_version: int = 0  # the version the case answered this driver's last action with

    async def step(self, now: datetime | None) -> Step | Waiting:
        """Act on one open task if possible. ``now`` is the server's clock when it can be moved
        (time skipping), ``None`` on a real server where it moves by itself."""
        snap = await self.view.look()
        if snap is None or snap.version < self._acted_at_version:
            return Step.BUSY  # not projected yet, or not yet with this driver's last action
        self.last = snap
        if snap.stage.terminal or (self.until is not None and _reached(snap.stage, self.until)):
            return Step.DONE
        if self._ready_at is None and now is not None:
            self._ready_at = self.script.first_action_at or now + self.script.think_time
        if now is not None and self._ready_at is not None and now < self._ready_at:
            return Waiting(self._ready_at)
        waits: list[Waiting] = []
        for task in snap.open_tasks():
            result = await self._act(snap, task, now)
            if result is Step.ACTED:
                if now is not None and self.script.think_time:
                    self._ready_at = now + self.script.think_time
                return Step.ACTED
            if isinstance(result, Waiting):
                waits.append(result)
        return min(waits, key=lambda w: w.until) if waits else Step.BUSY

    async def run(
        self,
        *,
        clock: Callable[[], Awaitable[datetime]] | None = None,
        advance: Advance | None = None,
        timeout: float = 60.0,
        poll: float = 0.05,
    ) -> CaseSnapshot:
        """Drive one case on its own: with ``clock``/``advance`` on a time-skipping server, or
        on a real server until it must wait for the calendar."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = await self.step(await clock() if clock else None)
            if result is Step.ACTED:
                continue
            if self.last is None:  # not projected yet: nothing seen, so nothing to return
                if loop.time() > deadline:
                    raise TimeoutError(f"case {self.handle.id} not projected in {timeout} s")
                await asyncio.sleep(poll)
                continue
            if result is Step.DONE:
                return self.last
            if isinstance(result, Waiting):
                if advance is None:
                    return self.last
                await advance(result.until)
                continue
            if loop.time() > deadline:
                return self.last
            await asyncio.sleep(poll)

    async def _act(self, snap: CaseSnapshot, task: Task, now: datetime | None) -> Step | Waiting:
        if task.kind is TaskKind.INITIATE:
            # The workflow takes the initiation from the window's first day; a simulated
            # employer waits for office hours (09:00) that day, but once the day has come it
            # acts at once, so a real-clock run started between midnight and 09:00 China time
            # on the 1st does not stall for hours.
            today = (now or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ).date()
            if today < snap.deadlines.initiation_opens:
                return Waiting(datetime.combine(snap.deadlines.initiation_opens, time(9), CHINA_TZ))
            actor = (
                organisation_actor(self.person)
                if self.person.has_employer
                else Actor(id=self.person_key, role=Role.INDIVIDUAL)
            )
            request = Initiate(request_id=_rid(), actor=actor)
            return await self._send(RetirementCase.initiate, request)
        if task.kind is TaskKind.DECLARE:
            declaration = self.script.declaration or Declaration(contribution_years=Decimal(30))
            return await self._send(
                RetirementCase.declare,
                Declare(
                    request_id=_rid(),
                    actor=organisation_actor(self.person),
                    declaration=declaration,
                ),
            )
        if task.kind is TaskKind.CORRECT:
            current = self.script.declaration
            corrected = self.script.correction(current) if self.script.correction else current
            return await self._send(
                RetirementCase.resubmit,
                Resubmit(
                    request_id=_rid(),
                    actor=organisation_actor(self.person),
                    declaration=corrected or Declaration(contribution_years=Decimal(30)),
                ),
            )
        if task.kind is TaskKind.SETTLE_CONTRIBUTIONS:
            actor = (
                organisation_actor(self.person)
                if self.person.has_employer
                else Actor(id=self.person_key, role=Role.INDIVIDUAL)
            )
            return await self._send(
                RetirementCase.settle,
                Settle(request_id=_rid(), actor=actor, task_id=task.id, note="settled"),
            )
        if task.department is None:
            return Step.BUSY
        n = self.seen.get(task.kind, 0)
        self.seen[task.kind] = n + 1
        outcome, reason = self.script.decide(task, n)
        return await self._send(
            RetirementCase.decide,
            Decision(
                request_id=_rid(),
                task_id=task.id,
                outcome=outcome,
                reason=reason,
                actor=clerk_for(task.department, self.person.region_code),
            ),
        )

    async def _send(self, update: Any, request: Any) -> Step:
        try:
            answer: Answer = await self.handle.execute_update(update, request)
        except WorkflowUpdateFailedError:
            return Step.BUSY  # stale: somebody else acted first, look again
        if answer.projection is not None:
            await self.view.record(answer.projection)
        self._acted_at_version = answer.version
        if isinstance(request, Decision):
            self.answered.append(request.request_id)
        return Step.ACTED


def _reached(stage: Stage, until: Stage) -> bool:
    return _STAGE_ORDER.index(stage) >= _STAGE_ORDER.index(until)


def _rid() -> str:
    return uuid.uuid4().hex
