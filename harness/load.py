"""A load run through the HTTP API: employers declaring the same people concurrently, 50 clerks
working their inboxes at once, every case to completion; then every answer is checked against
the workflows, the audit log and the department records. ``make load`` prints the figures.

Everything runs as separate local processes on free ports (``harness.cluster``): the Temporal
dev server, the worker and the API under uvicorn, on a scratch SQLite or PostgreSQL database.
The people act only through HTTP, as they would:

- **employers**: two officers of the same employer declare each person at the same moment,
  each with an Idempotency-Key of their own, and one of them sends its request twice (a client
  retry). One case per person must result; every answer must be 201, 200 (the open case) or a
  409, and the retry must get the first answer again. Later they list their cases awaiting
  initiation and initiate them.
- **clerks**: of four departments, spread over the regions, several per inbox, so they compete
  for the same tasks: each takes a task from ``GET /inbox`` and approves it. A clerk who comes
  second gets a 409 (the task is closed); every tenth decision is sent twice with the same key.

Afterwards: zero 5xx; every decision answered 200 is in the workflow and in the audit log
exactly once; no task decided twice; each pension award, fund payout and notification exists
once; ``reconcile`` finds no drift; and every case's history replays (``harness.replay_gate``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from contextlib import ExitStack, suppress
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contracts.declarations import Declaration
from contracts.identity import case_id
from contracts.people import Person
from contracts.workflow import CaseSnapshot, Stage
from db.models import CaseRow
from db.session import make_engine, make_sessionmaker
from harness.cluster import Cluster, run_stoppable
from harness.exactly_once import Verdict, verdict
from harness.people import declare_body, early_retirees
from harness.scratch import scratch_database
from service.temporal import connect
from workflows.case import RetirementCase
from workflows.dispatch import dispatcher_id

REGIONS = ("220102", "220103", "220104", "220105", "220106")
DEPARTMENTS = ("hr", "social-insurance", "medical-security", "provident-fund")
Json = dict[str, Any]


@dataclass
class LoadFigures:
    cases: int
    clerks: int
    database: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0  # after one retry
    transport_retries: int = 0  # broken connections a request was sent again after
    declarations: Counter[str] = field(default_factory=Counter)  # created/open-case/conflict
    retry_mismatches: int = 0  # a retry with the same key answered differently
    workflows: int = 0  # case workflows in Temporal
    people_with_two_cases: int = 0
    decisions_answered: int = 0  # 200 to a decision
    decisions_stale: int = 0  # 409: another clerk came first
    initiations: int = 0
    completed: int = 0
    lost_decisions: int = 0  # answered 200, not in the workflow
    verdict: Verdict | None = None  # decisions audited, side effects once, no drift
    decision_ms: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.shortfalls

    @property
    def shortfalls(self) -> list[str]:
        """Each check the figures fail, in words (the run adds them to ``failures``, so a failed
        run says why without a reader digging through the report)."""
        checks = {
            "server errors": (self.server_errors, 0),
            "transport errors": (self.transport_errors, 0),
            "retries answered differently": (self.retry_mismatches, 0),
            "case workflows": (self.workflows, self.cases),
            "people with two cases": (self.people_with_two_cases, 0),
            "cases completed": (self.completed, self.cases),
            "decisions lost": (self.lost_decisions, 0),
        }
        found = [
            f"{name}: {got}, not {want}" for name, (got, want) in checks.items() if got != want
        ]
        return found + (["no verdict"] if self.verdict is None else self.verdict.shortfalls)

    def report(self) -> Json:
        """The figures as JSON. (``dataclasses.asdict`` would turn each Counter into a Counter
        of its (key, count) pairs.)"""
        out: Json = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Counter):
                value = {str(k): n for k, n in sorted(value.items())}
            elif is_dataclass(value) and not isinstance(value, type):
                value = asdict(value)
            out[item.name] = value
        return {**out, "server_errors": self.server_errors, "ok": self.ok}


class Http:
    """The run's HTTP client: counts every answer and times decisions."""

    def __init__(self, base_url: str, figures: LoadFigures) -> None:
        # Idle connections expire before uvicorn closes them (its keep-alive is 5 s): with equal
        # timeouts a request may go out on a connection the server is closing (a ReadError).
        limits = httpx.Limits(
            max_connections=200, max_keepalive_connections=200, keepalive_expiry=2.0
        )
        self.client = httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits)
        self.figures = figures
        self.decision_times: list[float] = []

    async def send(
        self, method: str, url: str, headers: dict[str, str], **kw: Any
    ) -> httpx.Response | None:
        """One request, sent again once after a broken connection as a real client would — safe,
        because every POST here carries an Idempotency-Key."""
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                response = await self.client.request(method, url, headers=headers, **kw)
                break
            except httpx.TransportError as exc:
                if attempt == 1:
                    self.figures.transport_retries += 1
                    continue
                self.figures.transport_errors += 1
                self.figures.failures.append(f"{method} {url}: {type(exc).__name__} {exc}")
                return None
        self.figures.requests += 1
        self.figures.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.figures.failures.append(
                f"{method} {url}: {response.status_code} {response.text[:300]}"
            )
        if url.endswith("/decision"):
            self.decision_times.append(time.perf_counter() - started)
        return response


@dataclass
class Ledger:
    """What the API answered, to hold against the workflows afterwards."""

    decided: list[tuple[str, str, str]] = field(default_factory=list)  # case, task, clerk


async def run(
    cases: int = 1000,
    clerks: int = 50,
    database: str = "postgres",
    timeout: float = 1800,
    database_url: str | None = None,
) -> LoadFigures:
    """``database``: a scratch ``sqlite`` or ``postgres`` database, or the migrated, empty
    ``database_url`` given."""
    figures = LoadFigures(cases=cases, clerks=clerks, database=database)
    started_at = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="retirement-load-") as folder_name:
        folder = Path(folder_name)
        with ExitStack() as stack:
            url = database_url or stack.enter_context(scratch_database(database, folder))
            cluster = Cluster(folder, url, activity_threads=32)
            engine = make_engine(url)
            sessions = make_sessionmaker(engine)
            try:
                cluster.start_server()
                cluster.start_departments()
                cluster.start_worker()
                cluster.start_api()
                await _load(cluster, sessions, figures, timeout)
            except Exception as exc:
                figures.failures.append(f"{type(exc).__name__}: {exc}")
                for name in ("worker", "api", "departments"):
                    figures.failures.append(f"{name} log:\n{cluster.log_tail(name)}")
            finally:
                cluster.stop()
                engine.dispose()
            if not figures.ok:
                figures.failures.extend(figures.shortfalls)
                kept = cluster.keep_logs(Path("var") / "load-logs")
                figures.failures.append(f"the processes' logs are in {kept}")
    figures.seconds = round(time.monotonic() - started_at, 1)
    return figures


async def _load(
    cluster: Cluster, sessions: sessionmaker[Session], figures: LoadFigures, timeout: float
) -> None:
    people = early_retirees(
        figures.cases, organisation="emp-load", regions=_regions(figures.clerks)
    )
    await asyncio.gather(
        *(
            asyncio.to_thread(
                cluster.departments.seed, person.id_number, person.name, actual_years=Decimal(16)
            )
            for person, _ in people
        )
    )
    client = await connect(cluster.settings)
    http = Http(cluster.api_url, figures)
    ledger = Ledger()
    deadline = time.monotonic() + timeout
    try:
        await _declare_everyone(cluster, http, people, figures)
        finished = asyncio.Event()
        actors = [
            *(_clerk(cluster, http, ledger, n, finished) for n in range(figures.clerks)),
            _employer(cluster, http, finished),
            _watch(sessions, figures.cases, finished, deadline),
        ]
        await asyncio.gather(*actors)
    finally:
        await http.client.aclose()
    times = sorted(http.decision_times)
    if times:
        figures.decision_ms = {
            "p50": round(times[len(times) // 2] * 1000, 1),
            "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 1),
            "max": round(times[-1] * 1000, 1),
        }
    await _check(client, sessions, cluster, people, ledger, figures)


def _regions(clerks: int) -> tuple[str, ...]:
    """The regions whose every department has a clerk (clerks are dealt out department by
    department, region by region)."""
    if clerks < len(DEPARTMENTS):
        raise ValueError(f"at least {len(DEPARTMENTS)} clerks: one per department")
    return REGIONS[: min(len(REGIONS), clerks // len(DEPARTMENTS))]


async def _declare_everyone(
    cluster: Cluster, http: Http, people: list[tuple[Person, Declaration]], figures: LoadFigures
) -> None:
    """Two officers declare each person at once; officer A's request is sent twice."""
    officers = [
        cluster.token({"sub": f"officer-{x}", "role": "employer", "organisation": "emp-load"})
        for x in "ab"
    ]
    gate = asyncio.Semaphore(40)

    async def declare(person: Person, declaration: Declaration) -> None:
        body = declare_body(person, declaration)
        key = f"declare-{person.id_number[-8:]}"
        async with gate:
            first, second, retry = await asyncio.gather(
                http.send("POST", "/cases", {**officers[0], "Idempotency-Key": key}, json=body),
                http.send("POST", "/cases", {**officers[1], "Idempotency-Key": key}, json=body),
                http.send("POST", "/cases", {**officers[0], "Idempotency-Key": key}, json=body),
            )
        for response in (first, second):
            if response is not None:
                figures.declarations[_declaration_outcome(response)] += 1
        if first is not None and retry is not None and _answer(first) != _answer(retry):
            figures.retry_mismatches += 1
            figures.failures.append(f"declare retry: {_answer(first)} then {_answer(retry)}")

    await asyncio.gather(*(declare(p, d) for p, d in people))


def _declaration_outcome(response: httpx.Response) -> str:
    return {201: "created", 200: "open-case", 409: "conflict"}.get(
        response.status_code, f"status-{response.status_code}"
    )


def _answer(response: httpx.Response) -> tuple[int, str | None]:
    """What a retry must repeat: the status and, when it succeeded, the case."""
    body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    return response.status_code, body.get("case_id") if response.status_code < 300 else None


async def _clerk(
    cluster: Cluster, http: Http, ledger: Ledger, n: int, finished: asyncio.Event
) -> None:
    """A clerk of one department and region: takes tasks from the inbox and approves them."""
    department = DEPARTMENTS[n % len(DEPARTMENTS)]
    region = REGIONS[(n // len(DEPARTMENTS)) % len(REGIONS)]
    subject = f"{department}-clerk-{n}"
    headers = cluster.token(
        {"sub": subject, "role": "clerk", "department": department, "region": region}
    )
    rng = random.Random(n)  # noqa: S311 - a repeatable spread, not security
    decisions = 0
    while not finished.is_set():
        page = await http.send("GET", "/inbox", headers, params={"limit": 20})
        items = page.json()["items"] if page is not None and page.status_code == 200 else []
        if not items:
            await _sleep_unless(finished, 0.5)
            continue
        task = rng.choice(items)
        decisions += 1
        url = f"/cases/{task['case_id']}/tasks/{task['task_id']}/decision"
        keyed = {**headers, "Idempotency-Key": f"{subject}-{decisions}"}
        sends: list[Awaitable[httpx.Response | None]] = [
            http.send("POST", url, keyed, json={"outcome": "approve"})
        ]
        if decisions % 10 == 0:  # a client that retries at once with the same key
            sends.append(http.send("POST", url, keyed, json={"outcome": "approve"}))
        answers = await asyncio.gather(*sends)
        first = answers[0]
        if first is None:
            continue
        if (
            len(answers) == 2
            and answers[1] is not None
            and _status_and_version(first) != _status_and_version(answers[1])
        ):
            http.figures.retry_mismatches += 1
            http.figures.failures.append(
                f"decision retry: {first.status_code} then {answers[1].status_code}"
            )
        if first.status_code == 200:
            http.figures.decisions_answered += 1
            ledger.decided.append((task["case_id"], task["task_id"], subject))
        elif first.status_code == 409:
            http.figures.decisions_stale += 1
        elif first.status_code < 500:
            http.figures.failures.append(f"decision {first.status_code}: {first.text[:300]}")


def _status_and_version(response: httpx.Response) -> tuple[int, Any]:
    body = response.json() if response.status_code == 200 else {}
    return response.status_code, body.get("version")


async def _employer(cluster: Cluster, http: Http, finished: asyncio.Event) -> None:
    """The employer's HR office: initiates every case whose initiation window is open."""
    headers = cluster.token({"sub": "officer-a", "role": "employer", "organisation": "emp-load"})
    gate = asyncio.Semaphore(10)  # ten initiations at a time
    while not finished.is_set():
        page = await http.send(
            "GET", "/cases", headers, params={"stage": "awaiting-initiation", "limit": 200}
        )
        items = page.json()["items"] if page is not None and page.status_code == 200 else []

        async def initiate(case_id: str) -> None:
            key = {**headers, "Idempotency-Key": f"initiate-{case_id}"}
            async with gate:
                answer = await http.send("POST", f"/cases/{case_id}/initiation", key, json={})
            if answer is not None and answer.status_code == 200:
                http.figures.initiations += 1

        await asyncio.gather(*(initiate(item["case_id"]) for item in items))
        if not items:
            await _sleep_unless(finished, 0.5)


async def _watch(
    sessions: sessionmaker[Session], cases: int, finished: asyncio.Event, deadline: float
) -> None:
    """Ends the run when the read model shows every case completed (or at the deadline)."""
    while time.monotonic() < deadline:
        done = await asyncio.to_thread(_count_completed, sessions)
        if done >= cases:
            break
        await asyncio.sleep(1)
    finished.set()


def _count_completed(sessions: sessionmaker[Session]) -> int:
    with sessions() as db:
        return db.scalar(select(func.count()).where(CaseRow.stage == "completed")) or 0


async def _sleep_unless(event: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


async def _check(
    client: Client,
    sessions: sessionmaker[Session],
    cluster: Cluster,
    people: list[tuple[Person, Declaration]],
    ledger: Ledger,
    figures: LoadFigures,
) -> None:
    """The workflows, the audit log and the department records against what was answered."""
    figures.workflows = (await client.count_workflows("WorkflowType = 'RetirementCase'")).count
    secret = cluster.settings.case_secret
    gate = asyncio.Semaphore(20)

    async def snapshot(person: Person) -> CaseSnapshot:
        async with gate:
            first = client.get_workflow_handle(case_id(person.id_number, secret, 1))
            second = client.get_workflow_handle(case_id(person.id_number, secret, 2))
            try:
                await second.describe()
                figures.people_with_two_cases += 1
            except RPCError as exc:  # not found, as it must be
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise
            result: CaseSnapshot = await first.query(RetirementCase.progress)
            return result

    async def closed(person: Person) -> None:
        """Until the workflow has closed: a completed case may still be sending its last notice."""
        async with gate:
            with suppress(Exception):  # counted below: a case that failed is not completed
                await client.get_workflow_handle(case_id(person.id_number, secret, 1)).result()

    await asyncio.gather(*(closed(p) for p, _ in people))
    snapshots = await asyncio.gather(*(snapshot(p) for p, _ in people))
    figures.completed = sum(s.stage is Stage.COMPLETED for s in snapshots)
    by_clerk = {(s.case_id, d.task_id, d.actor.id) for s in snapshots for d in s.decisions}
    figures.lost_decisions = sum(1 for answered in ledger.decided if answered not in by_clerk)
    await asyncio.sleep(2)  # the last projections
    with cluster.departments.platform() as platform:
        figures.verdict = await verdict(
            client,
            sessions,
            platform,
            snapshots,
            run="load",
            also_replay=[dispatcher_id(cluster.settings.temporal_task_queue)],
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m harness.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--clerks", type=int, default=50)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the clerks' work")
    args = parser.parse_args(argv)
    figures = run_stoppable(run(args.cases, args.clerks, args.database, args.timeout))
    print(json.dumps(figures.report(), indent=2, ensure_ascii=False))
    sys.stdout.flush()
    os._exit(0 if figures.ok else 1)


if __name__ == "__main__":
    main()
