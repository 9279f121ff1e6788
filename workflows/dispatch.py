"""``MessageDispatch``: the one long-running workflow that keeps the outbox moving.

It runs the ``notifications.dispatch`` activity again and again: each run sends what is due for
a minute, heartbeating after each send, and returns. A worker that dies mid-run stops
heartbeating, and Temporal runs the activity again ``request.heartbeat`` later on a worker that
lives; the deliveries the dead one held are taken again when their lease passes (``db.outbox``)
and posted under the same keys, so nothing is lost and nothing is sent twice. The worker starts
it (``worker.ensure_dispatcher``): one per task queue, by its fixed id. It continues as new now
and then, so its history stays short.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notifications import DispatchRequest, NotificationActivities

WORKFLOW_ID = "message-dispatch"


def dispatcher_id(task_queue: str) -> str:
    """The dispatcher of a task queue's cases: one per queue."""
    return f"{WORKFLOW_ID}-{task_queue}"


ROUNDS = 60  # runs of the activity before continuing as new: about an hour, ~400 events
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


@workflow.defn(name="MessageDispatch")
class MessageDispatchWorkflow:
    @workflow.run
    async def run(self, request: DispatchRequest) -> None:
        for _ in range(ROUNDS):
            await workflow.execute_activity_method(
                NotificationActivities.dispatch,
                request,
                start_to_close_timeout=timedelta(seconds=request.seconds + 2 * request.heartbeat),
                heartbeat_timeout=timedelta(seconds=request.heartbeat),
                retry_policy=RETRY,
                summary="send what is due in the outbox",
            )
        workflow.continue_as_new(request)
