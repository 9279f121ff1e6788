"""Decision latency: a clerk's decision through the HTTP API against the same decision sent as
a raw client update to an equivalent case, and against an update to the raw baseline workflow,
at 1 and at N concurrent clerks.

Every sample is a pre-review decision (approve) on its own case waiting at pre-review, timed on
the client from just before the request to the answer. The three kinds are interleaved — each
clerk takes them in turn, starting at a different one — so they see the same load (including
the activities each approval sets off in the worker).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from temporalio.client import WorkflowHandle

from bench.people import people, seed
from bench.raw import Phase, RawCase, RawPlan
from bench.rig import Rig
from bench.stats import summary_ms
from contracts.people import Department
from contracts.workflow import CaseOutcome, Decision, Outcome, TaskKind
from harness.driver import clerk_for
from harness.people import REGION
from workflows.case import RetirementCase

KINDS = ("api", "update", "engine")
OWN = "api_own"  # per API request: client time less the API's own wait for the Update
CLERK = {"sub": "hr-clerk-bench", "role": "clerk", "department": "hr", "region": REGION}
READY_TIMEOUT = 600.0

Sample = Callable[[], Awaitable[float]]


@dataclass
class Pending:
    """A project case waiting at pre-review: its id and the open task."""

    case_id: str
    task_id: str


async def waiting_cases(rig: Rig, first_serial: int, count: int) -> list[Pending]:
    """``count`` project cases started and projected into the read model at pre-review."""
    cast = people(first_serial, count)
    for who, _ in cast:
        await asyncio.to_thread(seed, rig.cluster.departments, who)
    gate = asyncio.Semaphore(32)

    async def start_one(index: int) -> str:
        async with gate:
            who, declaration = cast[index]
            return (await rig.start(who, declaration)).case_id

    case_ids = list(await asyncio.gather(*(start_one(i) for i in range(count))))
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        found = await asyncio.to_thread(rig.open_task_ids, TaskKind.PRE_REVIEW.value, case_ids)
        if len(found) == count:
            return [Pending(c, found[c]) for c in case_ids]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(found)} of {count} cases reached pre-review")
        await asyncio.sleep(0.5)


async def waiting_raw(rig: Rig, count: int) -> list[WorkflowHandle[RawCase, int]]:
    """``count`` baseline workflows waiting for an update (then three activities, like the
    project's approval at pre-review)."""
    plan = RawPlan(segments=[[], [3]])
    handles = [
        await rig.raw_client.start_workflow(
            RawCase.run, plan, id=f"raw-wait-{uuid.uuid4().hex[:12]}", task_queue=rig.raw_queue
        )
        for _ in range(count)
    ]
    deadline = time.monotonic() + READY_TIMEOUT
    for handle in handles:
        while await handle.query(RawCase.phase) is not Phase.WAITING:
            if time.monotonic() > deadline:
                raise TimeoutError("raw workflows did not reach their update")
            await asyncio.sleep(0.1)
    return handles


def _timed(call: Callable[[], Awaitable[None]]) -> Sample:
    async def sample() -> float:
        began = time.perf_counter()
        await call()
        return time.perf_counter() - began

    return sample


def api_sample(
    http: httpx.AsyncClient, headers: dict[str, str], case: Pending, own: list[float]
) -> Sample:
    """The decision through the API; also appends to ``own`` the API's overhead on this very
    request: the client's time less the time the API itself waited for the same Update
    (its ``Server-Timing: temporal;dur=…``, api/timing.py)."""

    async def sample() -> float:
        began = time.perf_counter()
        response = await http.post(
            f"/cases/{case.case_id}/tasks/{case.task_id}/decision",
            json={"outcome": "approve"},
            headers=headers,
        )
        took = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"API decision {response.status_code}: {response.text[:300]}")
        own.append(took - temporal_seconds(response))
        return took

    return sample


def temporal_seconds(response: httpx.Response) -> float:
    """The ``temporal`` entry of a response's ``Server-Timing`` header, in seconds."""
    for item in response.headers.get("server-timing", "").split(","):
        name, _, duration = item.strip().partition(";dur=")
        if name == "temporal":
            return float(duration) / 1000
    raise RuntimeError("the API's answer has no Server-Timing temporal entry")


def update_sample(rig: Rig, case: Pending) -> Sample:
    handle: WorkflowHandle[RetirementCase, CaseOutcome] = rig.client.get_workflow_handle_for(
        RetirementCase.run, case.case_id
    )
    decision = Decision(
        request_id=uuid.uuid4().hex,
        task_id=case.task_id,
        outcome=Outcome.APPROVE,
        actor=clerk_for(Department.HR, REGION),
    )

    async def call() -> None:
        await handle.execute_update(RetirementCase.decide, decision, id=decision.request_id)

    return _timed(call)


def engine_sample(handle: WorkflowHandle[RawCase, int]) -> Sample:
    async def call() -> None:
        await handle.execute_update(RawCase.decide, uuid.uuid4().hex)

    return _timed(call)


async def measure(
    rig: Rig, first_serial: int, clerks: int, rounds: int, http: httpx.AsyncClient
) -> dict[str, dict[str, float]]:
    """``clerks`` concurrent clerks, each taking ``rounds`` samples of every kind."""
    n = clerks * rounds
    cases = await waiting_cases(rig, first_serial, 2 * n)
    raws = await waiting_raw(rig, n)
    headers = rig.cluster.token(CLERK)
    samples: dict[str, list[float]] = {k: [] for k in KINDS}
    own: list[float] = []

    def make(kind: str, i: int) -> Sample:
        if kind == "api":
            return api_sample(http, headers, cases[i], own)
        if kind == "update":
            return update_sample(rig, cases[n + i])
        return engine_sample(raws[i])

    async def clerk(c: int) -> None:
        for r in range(rounds):
            i = c * rounds + r
            for k in range(len(KINDS)):
                kind = KINDS[(c + r + k) % len(KINDS)]
                samples[kind].append(await make(kind, i)())

    await asyncio.gather(*(clerk(c) for c in range(clerks)))
    return {kind: summary_ms(values) for kind, values in {**samples, OWN: own}.items()}


async def warm_up(rig: Rig, first_serial: int, clerks: int, http: httpx.AsyncClient) -> None:
    """Untimed decisions of each kind, by one clerk and then by ``clerks`` at once: first-call
    costs (imports, caches, and the connections a pool opens when that many requests first
    arrive together — on PostgreSQL a new server process each) are not what a clerk sees in a
    running service."""
    await measure(rig, first_serial, 1, 3, http)
    await measure(rig, first_serial + cases_needed(1, 3), clerks, 1, http)


def warm_up_cases(clerks: int) -> int:
    return cases_needed(1, 3) + cases_needed(clerks, 1)


def cases_needed(clerks: int, rounds: int) -> int:
    return 2 * clerks * rounds
