"""The timekeeper: reminders before deadlines, escalations after them and after clerks'
working-day deadlines. ``workflows.timers`` says what is due; this fires it. Mixed into
:class:`workflows.case.RetirementCase`."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.case import (
        SYSTEM,
        Department,
    )
    from contracts.workflow import (
        Assignee,
        Escalation,
    )
    from domain.timeline import (
        Milestone,
    )
    from workflows.timers import Timer, TimerKind, pending_timers


from workflows.ledger import MILESTONE_DEPARTMENT, CaseLedger


class Timekeeping(CaseLedger):
    def _pending(self) -> list[Timer]:
        return pending_timers(
            stage=self._stage,
            timeline=self._timeline,
            tasks=self._tasks.values(),
            fired=self._fired,
            schedule_from=self._schedule_from,
        )

    def _timer_changed(self, key: str) -> bool:
        return self._draining or self._stage.terminal or self._next_key() != key

    def _next_key(self) -> str | None:
        pending = self._pending()
        return pending[0].key if pending else None

    async def _keep_time(self) -> None:
        """Sleep until the earliest pending timer and fire it; wake early when it changes."""
        while not self._draining and not self._stage.terminal:
            pending = self._pending()
            if not pending:
                await workflow.wait_condition(
                    lambda: self._draining or self._stage.terminal or bool(self._pending())
                )
                continue
            timer = pending[0]
            delay = (timer.at - workflow.now()).total_seconds()
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
        self._fired.add(timer.key)
        self._bump()
        if timer.kind is TimerKind.REMINDER:
            assert timer.milestone is not None
            for role, recipient in self._who_must_act(timer.milestone):
                await self._notify(
                    role,
                    recipient,
                    "reminder",
                    f"{timer.milestone} due {timer.due}",
                    key=f"{timer.key}:{recipient}",
                )
            self._reminders_sent += 1
            self._event(f"reminder sent: {timer.milestone} due {timer.due}", SYSTEM)
        elif timer.kind is TimerKind.WINDOW_OPENS:
            for role, recipient in self._who_must_act(Milestone.INITIATION):
                await self._notify(
                    role,
                    recipient,
                    "window-opens",
                    f"The joint application can be initiated until {timer.due}",
                    key=f"{timer.key}:{recipient}",
                )
            self._event("initiation window opened", SYSTEM)
        elif timer.kind is TimerKind.ESCALATION:
            assert timer.milestone is not None
            self._overdue.add(timer.milestone)
            await self._escalate(
                MILESTONE_DEPARTMENT[timer.milestone],
                f"{timer.milestone} was due {timer.due} and is not done",
                key=timer.key,
            )
        else:
            assert timer.task_id is not None
            task = self._tasks[timer.task_id]
            self._tasks[task.id] = task.model_copy(update={"escalated": True})
            assert task.department is not None
            await self._escalate(
                task.department,
                f"{task.kind} {task.id} was due {task.due} (working-day deadline"
                f"{', estimated' if task.due_estimated else ''})",
                key=timer.key,
                task_id=task.id,
            )

    async def _escalate(
        self, department: Department, reason: str, *, key: str, task_id: str | None = None
    ) -> None:
        escalation = Escalation(
            id=f"esc-{len(self._escalations) + 1}",
            at=workflow.now(),
            department=department,
            reason=reason,
            task_id=task_id,
        )
        self._escalations.append(escalation)
        self._event(f"escalated to {department} supervisors: {reason}", SYSTEM)
        await self._notify(
            "supervisor",
            f"{department}@{self._person.region_code}",
            "escalation",
            reason,
            key=key,
        )

    def _who_must_act(self, milestone: Milestone) -> list[tuple[str, str]]:
        """Recipients of a milestone's reminder: whoever holds an open task. A milestone is only
        reminded in the stages that lead to it (``workflows.timers``), where every open task is
        a step towards it; with none open, the declaration is the organisation's to make."""
        recipients: list[tuple[str, str]] = []
        for task in self._open_tasks():
            if task.assignee is Assignee.CLERK and task.department is not None:
                recipients.append(("clerk", f"{task.department}@{self._person.region_code}"))
            elif task.assignee is Assignee.ORGANISATION and task.organisation:
                recipients.append(("organisation", task.organisation))
            elif task.assignee is Assignee.INDIVIDUAL:
                recipients.append(("individual", self._input.person_key))
        if not recipients and milestone is Milestone.DECLARATION:
            recipients.append(("organisation", self._person.organisation))
        return sorted(set(recipients))
