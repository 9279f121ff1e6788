"""A time-skipping Temporal test server for the suite, and a worker per test on fresh fakes.

Every story takes its people and dates from the test server's clock at its start (see
``tests/workflows/people.py``), never from a fixed calendar date, so the suite passes on whatever
day it runs.

``RETIREMENT_TEST_CLOCK_OFFSET_DAYS`` (default 0) is for checking exactly that: when set to a
whole number of days N, each test's server skips N days forward before the test begins, as if
the suite ran N days after today. For example::

    RETIREMENT_TEST_CLOCK_OFFSET_DAYS=800 .venv/bin/python -m pytest -q tests/workflows

It only moves the test server's clock (the recorded histories of ``test_replay.py`` carry their
own times and are unaffected); leave it unset for ordinary runs.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts.declarations import Declaration
from contracts.people import Actor, Department, Person, Role
from contracts.workflow import CaseOutcome, CaseSnapshot, Stage, Task, TaskKind, TaskStatus
from domain.months import YearMonth
from domain.policy import Category, Policy
from domain.timeline import CHINA_TZ
from harness.binaries import temporal_test_server
from service.case_start import StartedCase, start_case
from service.temporal import DATA_CONVERTER
from tests.support.people import fixed_id_number
from tests.workflows.fakes import FakeDepartments
from worker import build_worker
from workflows.case import RetirementCase

SECRET = b"test-case-id-key"
REGION = "220102"  # 长春市南关区
EMPLOYER = "emp-jl-0001"
AGENCY = "agency-cc-01"

CLOCK_OFFSET_ENV = "RETIREMENT_TEST_CLOCK_OFFSET_DAYS"


def clock_offset() -> timedelta:
    """How far each test's server clock skips before the test begins: the whole days of
    ``$RETIREMENT_TEST_CLOCK_OFFSET_DAYS`` (default 0), to run the suite as if on a later date."""
    raw = os.environ.get(CLOCK_OFFSET_ENV, "").strip() or "0"
    try:
        days = int(raw)
    except ValueError:
        raise pytest.UsageError(
            f"{CLOCK_OFFSET_ENV} must be a whole number of days, not {raw!r}"
        ) from None
    if days < 0:
        raise pytest.UsageError(f"{CLOCK_OFFSET_ENV} cannot go back in time ({days})")
    return timedelta(days=days)


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own (about 0.1 s to start).

    Its clock starts at the real current time and only ever moves forward: on a server shared
    by the session, a story that skips to T-1 would leave every later test starting months
    late (its declaration overdue, its reminders already past). One server per test keeps each
    story's dates, counted from the clock at its start, true whatever ran before it.

    With ``$RETIREMENT_TEST_CLOCK_OFFSET_DAYS`` set, the clock first skips that many days.
    """
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=temporal_test_server()
    )
    offset = clock_offset()
    if offset:
        await environment.sleep(offset)
    yield environment
    await environment.shutdown()


def person(
    birth: date,
    category: Category = Category.MALE,
    *,
    name: str = "张三",
    serial: int = 1,
    agency: bool = False,
) -> Person:
    return Person(
        id_number=fixed_id_number(
            birth, serial, female=category is not Category.MALE, region=REGION
        ),
        name=name,
        category=category,
        region_code=REGION,
        employer_id=None if agency else EMPLOYER,
        agency_id=AGENCY if agency else None,
    )


def clerk(department: Department, region: str = REGION, *, role: Role = Role.CLERK) -> Actor:
    return Actor(id=f"{department}-clerk-1", role=role, department=department, region=region)


EMPLOYER_ACTOR = Actor(id="hr-officer-1", role=Role.EMPLOYER, organisation=EMPLOYER)
AGENCY_ACTOR = Actor(id="agency-officer-1", role=Role.AGENCY, organisation=AGENCY)


def request_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Harness:
    env: WorkflowEnvironment
    fakes: FakeDepartments
    task_queue: str
    policy: Policy

    async def start(
        self,
        who: Person,
        declaration: Declaration | None = None,
        *,
        by: Actor = EMPLOYER_ACTOR,
    ) -> WorkflowHandle[RetirementCase, CaseOutcome]:
        if who.id_number not in self.fakes.households:
            self.fakes.add_person(who.id_number, who.name)
        started: StartedCase = await start_case(
            self.env.client,
            person=who,
            policy=self.policy,
            secret=SECRET,
            task_queue=self.task_queue,
            declaration=declaration,
            declared_by=by if declaration else None,
            request_id=request_id() if declaration else None,
            search_attributes=False,  # not registered on the time-skipping server
        )
        assert started.created
        return started.handle

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def today(self) -> date:
        """The date in China (where the case's dates are local dates) on the server's clock."""
        return (await self.now()).astimezone(CHINA_TZ).date()

    async def this_month(self) -> YearMonth:
        return YearMonth.of(await self.today())

    async def sleep_until(self, moment: datetime) -> None:
        """Skip the server's clock forward to ``moment``, which must not have passed: a story
        whose dates put a step in the past has chosen them wrongly, and says so here rather
        than by skipping the wait."""
        delta = moment - await self.now()
        assert delta >= timedelta(0), f"{moment} is already past ({-delta} ago)"
        if delta > timedelta(0):
            await self.env.sleep(delta)


async def snapshot(handle: WorkflowHandle[RetirementCase, CaseOutcome]) -> CaseSnapshot:
    return await handle.query(RetirementCase.progress)


async def wait_for(
    handle: WorkflowHandle[RetirementCase, CaseOutcome],
    ready: Callable[[CaseSnapshot], bool],
    *,
    timeout: float = 15.0,
) -> CaseSnapshot:
    """Poll the progress query until ``ready``: the workflow moves on its own between actions."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        snap = await snapshot(handle)
        if ready(snap):
            return snap
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out; stage {snap.stage}, open {snap.open_tasks()}")
        await asyncio.sleep(0.05)


async def open_task(
    handle: WorkflowHandle[RetirementCase, CaseOutcome], kind: TaskKind, timeout: float = 15.0
) -> Task:
    snap = await wait_for(
        handle, lambda s: any(t.kind is kind for t in s.open_tasks()), timeout=timeout
    )
    return next(t for t in snap.open_tasks() if t.kind is kind)


async def stage_is(
    handle: WorkflowHandle[RetirementCase, CaseOutcome], stage: Stage
) -> CaseSnapshot:
    return await wait_for(handle, lambda s: s.stage is stage)


@pytest.fixture
async def harness(env: WorkflowEnvironment, policy: Policy) -> AsyncIterator[Harness]:
    fakes = FakeDepartments()
    task_queue = f"cases-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = build_worker(env.client, task_queue, fakes.systems(), executor)
        async with worker:
            yield Harness(env, fakes, task_queue, policy)
    # Every message any case of the test sent reads in Chinese: its kind has a template, and
    # the workflow gave each blank of it (notifications/templates.toml).
    assert fakes.template_errors == []


Waiter = Callable[[], Awaitable[None]]
__all__ = ["TaskStatus"]
