"""The timekeeper: reminders before deadlines, escalations after them and after clerks'
working-day deadlines. ``workflows.timers`` says what is due; this fires it. Runs beside the
stages for the whole run (``workflows.case``)."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime, timedelta
from functools import partial

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.people import SYSTEM, Department
    from contracts.workflow import Assignee
    from domain.timeline import (
        Milestone,
    )
    from workflows.timers import Timer, TimerKind, pending_timers


from workflows.projection import FEWER_WAKEUPS
from workflows.state import State
from workflows.steps import Steps

# Which milestone each department answers for when it is missed.
MILESTONE_DEPARTMENT = {
    Milestone.DECLARATION: Department.HR,
    Milestone.CONTRIBUTION_CHECK: Department.SOCIAL_INSURANCE,
    Milestone.INITIATION: Department.HR,
}


class Timekeeper:
    def __init__(self, state: State, steps: Steps) -> None:
        self.state = state
        self.steps = steps

    def _pending(self) -> list[Timer]:
        state = self.state
        return pending_timers(
            stage=state.stage,
            timeline=state.timeline,
            tasks=state.tasks.values(),
            fired=state.fired,
            schedule_from=state.schedule_from,
        )

    def _stopped(self) -> bool:
        return self.state.draining or self.state.stage.terminal

    def _timer_changed(self, key: str) -> bool:
        return self._stopped() or self._next_key() != key

    def _earlier_than(self, at: datetime) -> bool:
        if self._stopped():
            return True
        pending = self._pending()
        return bool(pending) and pending[0].at < at

    def _next_key(self) -> str | None:
        pending = self._pending()
        return pending[0].key if pending else None

    async def keep_time(self) -> None:
        """Sleep until the earliest pending timer and fire it; wake early when it changes."""
        while not self._stopped():
            pending = self._pending()
            if not pending:
                await workflow.wait_condition(lambda: self._stopped() or bool(self._pending()))
                continue
            timer = pending[0]
            delay = (timer.at - workflow.now()).total_seconds()
            if delay > 0 and workflow.patched(FEWER_WAKEUPS):
                # One timer, re-armed only for an earlier moment. When the next timer changes
                # to a later one (its task was decided, its stage passed), the armed timer is
                # kept: cancelling it and starting another cost two events at every change,
                # while a case that moves on before it fires never sees it again. When it
                # fires, the loop looks again and fires only what is due by then.
                with suppress(TimeoutError):
                    await workflow.wait_condition(
                        partial(self._earlier_than, timer.at),
                        timeout=timedelta(seconds=delay),
                        timeout_summary=timer.summary,
                    )
                continue
            if delay > 0:
                try:
                    await workflow.wait_condition(
                        partial(self._timer_changed, timer.key),
                        timeout=timedelta(seconds=delay),
                        timeout_summary=timer.summary,
                    )
                    continue  # something changed: look again
                except TimeoutError:
                    pass
            await self._fire(timer)

    async def _fire(self, timer: Timer) -> None:
        state, steps = self.state, self.steps
        state.fired.add(timer.key)
        state.bump()
        if timer.kind is TimerKind.REMINDER:
            assert timer.milestone is not None
            for role, recipient in self._who_must_act(timer.milestone):
                await steps.notify(
                    role,
                    recipient,
                    "reminder",
                    f"{timer.milestone} due {timer.due}",
                    key=f"{timer.key}:{recipient}",
                    facts={"milestone": str(timer.milestone), "due": _iso(timer.due)},
                )
            state.reminders_sent += 1
            state.event(f"reminder sent: {timer.milestone} due {timer.due}", SYSTEM)
        elif timer.kind is TimerKind.WINDOW_OPENS:
            for role, recipient in self._who_must_act(Milestone.INITIATION):
                await steps.notify(
                    role,
                    recipient,
                    "window-opens",
                    f"The joint application can be initiated until {timer.due}",
                    key=f"{timer.key}:{recipient}",
                    facts={"due": _iso(timer.due)},
                )
            state.event("initiation window opened", SYSTEM)
        elif timer.kind is TimerKind.ESCALATION:
            assert timer.milestone is not None
            state.overdue.add(timer.milestone)
            await steps.escalate(
                MILESTONE_DEPARTMENT[timer.milestone],
                f"{timer.milestone} was due {timer.due} and is not done",
                key=timer.key,
                facts={"what": str(timer.milestone), "due": _iso(timer.due)},
            )
        else:
            assert timer.task_id is not None
            task = state.tasks[timer.task_id]
            state.tasks[task.id] = task.model_copy(update={"escalated": True})
            assert task.department is not None
            await steps.escalate(
                task.department,
                f"{task.kind} {task.id} was due {task.due} (working-day deadline"
                f"{', estimated' if task.due_estimated else ''})",
                key=timer.key,
                task_id=task.id,
                facts={"what": str(task.kind), "due": _iso(task.due)},
            )

    def _who_must_act(self, milestone: Milestone) -> list[tuple[str, str]]:
        """Recipients of a milestone's reminder: whoever holds an open task. A milestone is only
        reminded in the stages that lead to it (``workflows.timers``), where every open task is
        a step towards it; with none open, the declaration is the organisation's to make."""
        state = self.state
        region = state.person.region_code
        recipients: list[tuple[str, str]] = []
        for task in state.open_tasks():
            if task.assignee is Assignee.CLERK and task.department is not None:
                recipients.append(("clerk", f"{task.department}@{region}"))
            elif task.assignee is Assignee.ORGANISATION and task.organisation:
                recipients.append(("organisation", task.organisation))
            elif task.assignee is Assignee.INDIVIDUAL:
                recipients.append(("individual", state.input.person_key))
        if not recipients and milestone is Milestone.DECLARATION:
            recipients.append(("organisation", state.person.organisation))
        return sorted(set(recipients))


def _iso(day: date | None) -> str:
    """A due date as a message's fact (every reminder and escalation timer has one)."""
    return day.isoformat() if day is not None else ""
