"""The raw-engine baseline: a minimal workflow doing the same number of activities and updates
as a normal case, in the same order and with the same concurrency, and nothing else — no-op
activities, plain updates, Temporal's default payload converter (no encryption), no read model,
no search attributes, no timers.

Its worker runs as a separate process (``python -m bench.raw ADDRESS TASK_QUEUE THREADS``), like
the project's worker, with the same number of activity threads, so the two are compared on
equal terms: one process each, same server, same run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from bench.cost import PROJECTION


@dataclass
class RawPlan:
    """``segments[i]``: the batches of activities run before the workflow waits for update
    ``i`` (each batch runs concurrently, as the activities one workflow task scheduled together);
    the last segment runs after the last update."""

    segments: list[list[int]]

    @property
    def activities(self) -> int:
        return sum(sum(batches) for batches in self.segments)

    @property
    def updates(self) -> int:
        return len(self.segments) - 1


class Phase(StrEnum):
    BUSY = "busy"
    WAITING = "waiting"  # for the next update
    DONE = "done"


@activity.defn
def raw_step(n: int) -> int:
    return n


@workflow.defn
class RawCase:
    def __init__(self) -> None:
        self._received = 0
        self._phase = Phase.BUSY

    @workflow.run
    async def run(self, plan: RawPlan) -> int:
        for index, batches in enumerate(plan.segments):
            for batch in batches:
                await asyncio.gather(
                    *(
                        workflow.execute_activity(
                            raw_step, n, start_to_close_timeout=timedelta(seconds=60)
                        )
                        for n in range(batch)
                    )
                )
            if index < plan.updates:
                self._phase = Phase.WAITING
                await workflow.wait_condition(lambda i=index: self._received > i)  # type: ignore[misc]
                self._phase = Phase.BUSY
        self._phase = Phase.DONE
        return self._received

    @workflow.query
    def phase(self) -> Phase:
        return self._phase

    @workflow.update
    def decide(self, request_id: str) -> int:
        self._received += 1
        return self._received

    @decide.validator
    def _validate_decide(self, request_id: str) -> None:
        # Like the case's validators: an update the workflow is not waiting for is refused
        # before anything is written to history.
        if self._phase is not Phase.WAITING:
            raise ApplicationError("not waiting for a decision", type="NotYet")


def plan_from_history(events: Iterable[HistoryEvent]) -> RawPlan:
    """The shape of a real case: its department and notification activities scheduled between
    accepted updates, grouped by the workflow task that scheduled them (those ran concurrently).
    The read-model projections are the project's own spend, not work the engine is asked for,
    so the baseline does not do them (``bench.cost``)."""
    segments: list[list[int]] = [[]]
    batch = 0

    def flush() -> None:
        nonlocal batch
        if batch:
            segments[-1].append(batch)
            batch = 0

    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            batch += scheduled.activity_type.name != PROJECTION
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            flush()  # a new workflow task: what it schedules is a new batch
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            flush()
            segments.append([])
    flush()
    return RawPlan(segments=segments)


async def serve(address: str, task_queue: str, threads: int) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=threads) as executor:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[RawCase],
            activities=[raw_step],
            activity_executor=executor,
            max_concurrent_activities=threads,
        )
        async with worker:
            await stop.wait()


def main() -> None:
    address, task_queue, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    asyncio.run(serve(address, task_queue, threads))
    # After Temporal's Rust core has run, CPython may crash while finalising.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
