"""The replay gate: every case history a run produced is replayed against the current workflow
code before the run may pass.

A history can be unreplayable although the case ran to its end without a failure (a workflow
task split by a query-time activation, docs/reliability.md): that only shows the day a worker
must rebuild the case from its history, after a restart or a cache eviction, when the case is
stuck. The chaos and load runs (``harness.exactly_once.verdict``), the bench and the recorded
demo therefore replay what they made, the same way the worker would, and fail on any history
that does not replay. Each failing history is written as JSON (``WorkflowHistory.to_json``) under
``var/replay-failures/<run>/<workflow id>.json``, ready to be added to the replay corpus
(``tests/workflows/regressions/``).

``fetch_histories`` reads the histories (every run of a case that continued as new) with a
bounded number of requests in flight; ``replay_histories`` replays them with one
``Replayer`` (no server needed); ``replay_gate`` does both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from service.temporal import runtime
from workflows.case import RetirementCase
from workflows.dispatch import MessageDispatchWorkflow
from workflows.sweeps import OverdueDigestWorkflow, RosterSweepWorkflow

# Every workflow the worker runs (worker.build_worker), so any history of its task queue replays.
WORKFLOWS: tuple[type, ...] = (
    RetirementCase,
    RosterSweepWorkflow,
    OverdueDigestWorkflow,
    MessageDispatchWorkflow,
)
FAILURES = Path("var") / "replay-failures"
FETCHES_IN_FLIGHT = 16


@dataclass(frozen=True)
class ReplayFailure:
    workflow_id: str
    message: str
    history_file: str | None = None  # the history as JSON, for tests/workflows/regressions/


@dataclass
class ReplayReport:
    """What the gate replayed, and what did not replay."""

    replayed: int = 0  # histories replayed (a case that continued as new has several)
    cases: int = 0  # workflows asked for
    sampled_from: int | None = None  # the cases the sample was taken from, if only a sample
    failures: list[ReplayFailure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def per_second(self) -> float:
        return round(self.replayed / self.seconds, 1) if self.seconds else 0.0


def run_name(kind: str) -> str:
    """A folder name for one run's failures: its kind and when it ended (UTC)."""
    return f"{kind}-{datetime.now(UTC):%Y%m%d-%H%M%S}"


def sample(workflow_ids: Sequence[str], size: int) -> list[str]:
    """At most ``size`` of the ids, spread evenly over them (the first, every n-th)."""
    if size <= 0:
        return []
    return list(workflow_ids[:: max(1, -(-len(workflow_ids) // size))])[:size]


async def replay_gate(
    client: Client,
    workflow_ids: Iterable[str],
    *,
    run: str,
    data_converter: DataConverter | None = None,
    folder: Path | None = None,
    sampled_from: int | None = None,
    concurrency: int = FETCHES_IN_FLIGHT,
    observe: Callable[[WorkflowHistory], None] | None = None,
) -> ReplayReport:
    """Fetch every run's history of each workflow and replay it with ``data_converter`` (the
    worker's; by default the client's). Failing histories go to ``folder`` (by default
    ``var/replay-failures/<run>``); a history that cannot be fetched is a failure too.
    ``observe`` sees each history as it streams past, so a caller that also reads the histories
    (``harness.exactly_once.verdict``) does not fetch them again."""
    ids = list(workflow_ids)
    unfetched: list[ReplayFailure] = []
    fetched = fetch_histories(client, ids, concurrency=concurrency, errors=unfetched)
    report = await replay_histories(
        fetched if observe is None else _observed(fetched, observe),
        data_converter or client.data_converter,
        folder=folder if folder is not None else FAILURES / run,
    )
    report.failures.extend(unfetched)
    report.cases = len(ids)
    report.sampled_from = sampled_from
    return report


async def fetch_histories(
    client: Client,
    workflow_ids: Iterable[str],
    *,
    concurrency: int = FETCHES_IN_FLIGHT,
    errors: list[ReplayFailure] | None = None,
) -> AsyncIterator[WorkflowHistory]:
    """Each workflow's histories (its latest run, then the runs it continued from), fetched
    ``concurrency`` at a time and yielded as they arrive; at most ``concurrency`` wait unread,
    so memory stays bounded however many cases there are. A workflow whose history cannot be
    read is added to ``errors`` (raised when ``errors`` is None)."""
    pending = list(workflow_ids)
    pending.reverse()  # popped from the end: fetched in the order given
    ready: asyncio.Queue[WorkflowHistory | BaseException | None] = asyncio.Queue(concurrency)

    async def fetcher() -> None:
        while pending:
            workflow_id = pending.pop()
            try:
                async for history in _runs(client, workflow_id):
                    await ready.put(history)
            except Exception as exc:
                if errors is None:
                    await ready.put(exc)
                    return
                errors.append(ReplayFailure(workflow_id, f"fetch: {type(exc).__name__}: {exc}"))
        await ready.put(None)

    workers = max(1, min(concurrency, len(pending)))
    tasks = [asyncio.create_task(fetcher()) for _ in range(workers)]
    try:
        done = 0
        while done < workers:
            item = await ready.get()
            if item is None:
                done += 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _runs(client: Client, workflow_id: str) -> AsyncIterator[WorkflowHistory]:
    """The workflow's latest run's history, then each earlier run it continued as new from."""
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        yield history
        first = history.events[0] if history.events else None
        if first is None or first.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            return
        run_id = first.workflow_execution_started_event_attributes.continued_execution_run_id
        if not run_id:
            return


async def replay_histories(
    histories: AsyncIterable[WorkflowHistory] | Iterable[WorkflowHistory],
    data_converter: DataConverter,
    *,
    folder: Path,
    workflows: Sequence[type] = WORKFLOWS,
) -> ReplayReport:
    """Replay every history with one ``Replayer`` (they stream through it one after another)
    and write each that fails to ``folder/<workflow id>.json``.

    The replayer runs in the SDK's debug mode, which turns its deadlock detector off (and runs
    each activation on the event loop's thread, with the same sandbox): the detector fails a
    replay whose code does not yield within two seconds, which in a big process (CI's test
    process, late in the suite) a garbage collection alone can cause. That says how busy the
    process was, not whether the history replays; and a detector's interrupt swallowed by a
    collection's callback left the replay waiting for ever. Determinism is what the gate
    checks, and the SDK's core checks it the same way in either mode."""
    report = ReplayReport()
    written: set[Path] = set()
    began = time.monotonic()
    replayer = Replayer(
        workflows=list(workflows),
        data_converter=data_converter,
        runtime=runtime(),
        debug_mode=True,
    )
    async with replayer.workflow_replay_iterator(_aiter(histories)) as results:
        async for result in results:
            report.replayed += 1
            if result.replay_failure is not None:
                report.failures.append(
                    _failure(result.history, result.replay_failure, folder, written)
                )
    report.seconds = round(time.monotonic() - began, 2)
    return report


def _failure(
    history: WorkflowHistory, failure: Exception, folder: Path, written: set[Path]
) -> ReplayFailure:
    path = _keep(history, folder, written)
    return ReplayFailure(history.workflow_id, f"{type(failure).__name__}: {failure}", str(path))


def _keep(history: WorkflowHistory, folder: Path, written: set[Path]) -> Path:
    """Write the history as ``<workflow id>.json`` (an earlier run of a case whose later run
    failed too gets its run id appended)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{history.workflow_id}.json"
    if path in written:
        path = folder / f"{history.workflow_id}.{history.run_id}.json"
    path.write_text(history.to_json(), encoding="utf-8")
    written.add(path)
    return path


async def _observed(
    histories: AsyncIterator[WorkflowHistory], observe: Callable[[WorkflowHistory], None]
) -> AsyncIterator[WorkflowHistory]:
    async for history in histories:
        observe(history)
        yield history


async def _aiter(
    histories: AsyncIterable[WorkflowHistory] | Iterable[WorkflowHistory],
) -> AsyncIterator[WorkflowHistory]:
    if isinstance(histories, AsyncIterable):
        async for history in histories:
            yield history
    else:
        for history in histories:
            yield history
