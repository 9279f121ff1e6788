"""Cost per case, read from workflow histories: events and bytes, events per engine step, and
billable Temporal Cloud actions.

An engine step is one unit of work the case asks of the engine: a department or notification
activity (each attempt) or an accepted update or a signal — the things the raw baseline also
does. Everything else in the history (workflow tasks, the read-model projections, local-activity
and patch markers, timers, search-attribute upserts) is what the project spends per step.

Billable actions, per Temporal Cloud's published definition (docs.temporal.io/cloud/actions),
as far as the history shows them:

- workflow started: 1;
- activity started or retried: 1 per attempt (``ActivityTaskStarted.attempt``);
- local activities: 1 per workflow task that ran any (all local activities of one workflow task
  count as one action);
- timer started: 1 each (including the SDK's implicit timers of ``wait_condition(timeout=)``);
- search-attribute upsert: 1 per ``UpsertWorkflowSearchAttributes`` (those given at start are
  free);
- signal: 1 each; update: 1 per accepted update (a rejected update is also billed but leaves
  no event: the count here is a lower bound);
- queries are billed too but leave no event; the bench's driver polls with queries, the API
  reads the read model instead, so they are left out of the per-case figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

E = EventType
PROJECTION = "read_model.project"  # activities/read_model.py
LOCAL_ACTIVITY_MARKER = "core_local_activity"


def _name(kind: int) -> str:
    return E.Name(kind).removeprefix("EVENT_TYPE_").lower()  # type: ignore[arg-type]


@dataclass
class CaseCost:
    events: int
    bytes: int
    activities: int  # attempts of the department and notification steps
    projections: int  # attempts of the read-model projection activity (the project's spend)
    updates: int
    signals: int
    local_activities: int
    timers: int
    upserts: int
    workflow_tasks: int
    billable_actions: int
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.activities + self.updates + self.signals

    @property
    def events_per_step(self) -> float:
        return round(self.events / self.steps, 2) if self.steps else 0.0


def case_cost(events: Sequence[HistoryEvent]) -> CaseCost:
    kinds = Counter(e.event_type for e in events)
    types = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    attempts: Counter[bool] = Counter()  # by "is a projection"
    for e in events:
        if e.event_type == E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = e.activity_task_started_event_attributes
            attempts[types.get(started.scheduled_event_id) == PROJECTION] += started.attempt
    # Workflow tasks that recorded at least one local-activity marker (patch markers are free).
    la_tasks = 0
    marked = False
    for e in events:
        if e.event_type == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            marked = False
        elif (
            e.event_type == E.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            and not marked
        ):
            marked = True
            la_tasks += 1
    starts = kinds[E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]
    updates = kinds[E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    signals = kinds[E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    timers = kinds[E.EVENT_TYPE_TIMER_STARTED]
    upserts = kinds[E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES]
    return CaseCost(
        events=len(events),
        bytes=sum(e.ByteSize() for e in events),
        activities=attempts[False],
        projections=attempts[True],
        updates=updates,
        signals=signals,
        local_activities=sum(
            e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            for e in events
            if e.event_type == E.EVENT_TYPE_MARKER_RECORDED
        ),
        timers=timers,
        upserts=upserts,
        workflow_tasks=kinds[E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
        billable_actions=(
            starts + attempts.total() + la_tasks + timers + upserts + signals + updates
        ),
        by_type={_name(k): n for k, n in kinds.most_common()},
    )


def mean_cost(costs: Sequence[CaseCost]) -> dict[str, float]:
    """The mean of each figure over ``costs`` (cases of the same kind)."""
    n = len(costs)
    keys = (
        "events", "bytes", "activities", "projections", "updates", "signals", "local_activities",
        "timers", "upserts", "workflow_tasks", "billable_actions", "steps",
    )  # fmt: skip
    means = {k: round(sum(getattr(c, k) for c in costs) / n, 1) for k in keys}
    means["events_per_step"] = round(means["events"] / means["steps"], 2)
    return means


def by_type(costs: Sequence[CaseCost]) -> dict[str, float]:
    total: Counter[str] = Counter()
    for c in costs:
        total.update(c.by_type)
    return {k: round(v / len(costs), 1) for k, v in total.most_common()}
