"""The projector: the read model in the database, the search attributes and the Temporal UI's
current details, kept up with the case. Runs beside the stages for the whole run
(``workflows.case``).

The read model only ever shows what a completed workflow task has committed: the projection is
an ordinary activity, which the server dispatches after the task that scheduled it completed.
Whoever acts on the read model therefore acts on committed state, and a decision can never land
in the same workflow task as the events that opened its task (the split that Temporal's replay
cannot reproduce, docs/reliability.md).

When (patch ``fewer-wakeups-2026-12``): at once when someone can newly act (a task opened) or
the case was never projected; otherwise once the case has settled, no activity running. A
department step's result, the next step scheduled and a notice sent are then one projection,
not three: each is an activity, three events and usually a workflow task. An Update's answer
carries its own projection, which the API writes (``contracts.read_model.Answer``)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.read_model import ReadModelActivities
    from contracts import search
    from contracts.workflow import CaseSnapshot
    from domain.timeline import (
        CHINA_TZ,
    )


from workflows.state import State
from workflows.steps import DEPARTMENT_RETRY, STEP_TIMEOUT

# Patch id (docs/versioning.md): cases started before it upsert all six attributes every time.
CHANGED_SEARCH_ATTRIBUTES_ONLY = "search-attributes-changed-only-2026-12"
# Patch id: cases started before it wrote the read model from a local activity.
PROJECTION_AFTER_COMMIT = "projection-after-commit-2026-12"
# Patch id: cases started before it project every version as soon as it exists, and re-arm
# their timer whenever the next one changes (``workflows.timekeeping``).
FEWER_WAKEUPS = "fewer-wakeups-2026-12"
_NEVER = object()  # an attribute this run has not upserted yet


class Projector:
    def __init__(self, state: State) -> None:
        self.state = state
        self.projected_version = 0  # the last version this run wrote to the read model
        self.published: dict[str, object] = {}  # search attributes this run has upserted
        # The open tasks the last projection showed (``_news``).
        self.shown_tasks: frozenset[str] = frozenset()

    async def keep_projection(self) -> None:
        """Write the case's changes to the read model, coalescing each burst into one write."""
        state = self.state
        while True:
            when_settled = workflow.patched(FEWER_WAKEUPS)
            await workflow.wait_condition(partial(self._due, when_settled))
            if when_settled:
                # Every condition the same change meets wakes in one pass, in the order the
                # waits began, so this one may wake before the stage that will schedule its
                # next step: let every coroutine woken with it run first, then look again.
                await workflow.wait_condition(lambda: True)
                if not self._due(when_settled):
                    continue
            if state.version <= self.projected_version:
                return
            version = state.version
            projection = state.projection()
            self._publish(projection.snapshot)
            summary = f"read model: version {version}"
            if workflow.patched(PROJECTION_AFTER_COMMIT):
                # An ordinary activity runs only once the workflow task that scheduled it has
                # been committed by the server. A local activity runs inside the task, and SDK
                # core runs one even while answering a query on events no workflow task has
                # started (docs/reliability.md): the read model then showed a task no committed
                # workflow task had opened, and a clerk acting on it split the history.
                await workflow.execute_activity_method(
                    ReadModelActivities.project,
                    projection,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=DEPARTMENT_RETRY,
                    summary=summary,
                )
            else:
                await workflow.execute_local_activity_method(
                    ReadModelActivities.project,
                    projection,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=DEPARTMENT_RETRY,
                    summary=summary,
                )
            self.projected_version = version
            self.shown_tasks = frozenset(t.id for t in projection.snapshot.open_tasks())
            del state.audit[: len(projection.audit)]

    def _due(self, when_settled: bool) -> bool:
        """A version to write now, or the run ending with everything written."""
        state = self.state
        if state.version <= self.projected_version:
            return state.draining and workflow.all_handlers_finished()
        return not when_settled or self._settled() or self._news()

    def _settled(self) -> bool:
        """No activity runs: the case waits for a person, the calendar or an Update's effects.
        A burst of changes (a department step's result, the next step scheduled, a notice
        sent) becomes one projection instead of one per version: each projection is an
        activity, three events and usually a workflow task (docs/performance.md)."""
        return self.state.in_flight == 0 or self.state.draining

    def _news(self) -> bool:
        """Something people must see at once, even while steps run: the case itself, before
        it was ever projected (its household check may be retried for hours while the registry
        is down), and a task someone can now act on (a clerk's task in one department while
        another department's step still runs). A new stage alone waits for the case to settle:
        nobody can do anything new in it before then. A task closing needs no projection of
        its own either: the Update that closed it answered with its projection, which the API
        wrote (``contracts.read_model.Answer``)."""
        return self.projected_version == 0 or any(
            task.id not in self.shown_tasks for task in self.state.open_tasks()
        )

    def _publish(self, snapshot: CaseSnapshot) -> None:
        """Search attributes and the Temporal UI's current details (no personal data)."""
        if self.state.input.search_attributes:
            updates = _search_attributes(snapshot)
            if workflow.patched(CHANGED_SEARCH_ATTRIBUTES_ONLY):
                # Only what differs from what this run has upserted before: about a third of a
                # case's projections change none, and each upsert is an event and a billable
                # action. Compared with the run's own record, never with
                # ``info().typed_search_attributes``: a worker replaying the case after a crash
                # does not start from the same attributes, and the upserts then differed from
                # the history (a non-determinism error found by the chaos run).
                updates = [u for u in updates if self.published.get(u.key.name, _NEVER) != u.value]
                self.published.update((u.key.name, u.value) for u in updates)
            if updates:
                workflow.upsert_search_attributes(updates)
        workflow.set_current_details(details_markdown(snapshot))


def _search_attributes(snapshot: CaseSnapshot) -> list[SearchAttributeUpdate[Any]]:
    due = snapshot.next_due()
    return [
        search.STAGE.value_set(snapshot.stage.value),
        search.REGION.value_set(snapshot.region_code),
        search.PENDING_DEPARTMENTS.value_set([d.value for d in snapshot.pending_departments()]),
        search.RETIREMENT_MONTH.value_set(str(snapshot.deadlines.retirement_month)),
        search.OVERDUE.value_set(snapshot.is_overdue()),
        search.NEXT_DEADLINE.value_set(datetime.combine(due, datetime.min.time(), CHINA_TZ))
        if due is not None
        else search.NEXT_DEADLINE.value_unset(),
    ]


def details_markdown(snapshot: CaseSnapshot) -> str:
    """The Temporal UI's current details: stage, the nine items, open tasks, what is overdue."""
    lines = [
        f"**{snapshot.stage}** · retires {snapshot.deadlines.retirement_month} · "
        f"region {snapshot.region_code} · path {snapshot.path or 'not declared'}",
        "",
        "| # | item | department | status |",
        "|---|---|---|---|",
    ]
    for n, item in enumerate(snapshot.items, 1):
        lines.append(f"| {n} | {item.key} | {item.department} | {item.status} |")
    open_tasks = snapshot.open_tasks()
    if open_tasks:
        lines += ["", "Open tasks:"]
        for t in open_tasks:
            who = t.department or t.assignee
            due = f", due {t.due}{' (estimated)' if t.due_estimated else ''}" if t.due else ""
            flag = " ⚠ escalated" if t.escalated else ""
            lines.append(f"- {t.id} ({who}{due}){flag}: {t.title}")
    if snapshot.overdue:
        lines += ["", f"Overdue: {', '.join(snapshot.overdue)}"]
    if snapshot.closed_reason:
        lines += ["", f"Closed: {snapshot.closed_reason}"]
    return "\n".join(lines)
