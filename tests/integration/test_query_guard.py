"""The project's clients refuse to query a running workflow, and ask a closed one's own run."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio import workflow
from temporalio.worker import Worker

from service.temporal import RunningWorkflowQueryRefused


@workflow.defn(sandboxed=False)
class Waits:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.done)
        return "done"

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def state(self) -> str:
        return "done" if self.done else "waiting"


async def test_a_query_reaches_only_a_closed_run(dev_server: Any) -> None:
    client = dev_server.client  # made with QueriesOnlyToClosedRuns, as every project client
    queue = f"guard-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[Waits]):
        handle = await client.start_workflow(Waits.run, id=f"w-{queue}", task_queue=queue)
        with pytest.raises(RunningWorkflowQueryRefused, match="running workflow"):
            await handle.query(Waits.state)
        await handle.signal(Waits.finish)
        assert await handle.result() == "done"
        assert await handle.query(Waits.state) == "done"
