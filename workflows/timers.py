"""Which reminders and escalations a case has pending right now (pure: no Temporal calls).

The workflow's timekeeper asks for the earliest pending timer, sleeps until it (waking early when
the answer changes) and fires it. Deadlines are derived from the current timeline and open tasks
on every ask, so a corrected retirement month moves every pending timer at once; a timer's key
contains its due date, so a moved deadline gets fresh reminders and a fired one never repeats.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from contracts.workflow import Assignee, Stage, Task, TaskStatus
from domain.timeline import CHINA_TZ, CaseTimeline, Milestone

REMINDER_HOUR = 9  # reminders go out at 09:00 China time
WINDOW_HOUR = 8


class TimerKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    WINDOW_OPENS = "window-opens"
    TASK_OVERDUE = "task-overdue"


@dataclass(frozen=True, slots=True)
class Timer:
    key: str
    at: datetime
    kind: TimerKind
    summary: str
    milestone: Milestone | None = None
    task_id: str | None = None
    due: date | None = None


def china_time(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TZ)


def end_of(day: date) -> datetime:
    """A deadline "by day D" passes at midnight after D, China time."""
    return china_time(day + timedelta(days=1))


_BEFORE_INITIATION = (
    Stage.AWAITING_DECLARATION,
    Stage.DECLARATION,
    Stage.PRE_REVIEW,
    Stage.CONTRIBUTION_CHECK,
)
# Whose deadline is whose: reminders go out while the milestone is still to be met by someone
# who can act; escalation happens whenever the case has not passed the milestone in time.
_REMIND_IN = {
    Milestone.DECLARATION: (Stage.AWAITING_DECLARATION,),
    Milestone.CONTRIBUTION_CHECK: (Stage.DECLARATION, Stage.PRE_REVIEW, Stage.CONTRIBUTION_CHECK),
    Milestone.INITIATION: (Stage.AWAITING_INITIATION,),
}
_ESCALATE_IN = {
    Milestone.DECLARATION: (Stage.AWAITING_DECLARATION,),
    Milestone.CONTRIBUTION_CHECK: _BEFORE_INITIATION,
    Milestone.INITIATION: (*_BEFORE_INITIATION, Stage.AWAITING_INITIATION),
}


def pending_timers(
    *,
    stage: Stage,
    timeline: CaseTimeline,
    tasks: Iterable[Task],
    fired: Collection[str],
    schedule_from: datetime,
) -> list[Timer]:
    """Every timer not yet fired, earliest first. Reminders that fell due before the schedule
    was (re)made are dropped: a case declared late gets its escalation, not a month of stale
    reminders."""
    timers: list[Timer] = []
    for reminder in timeline.reminders:
        if stage in _REMIND_IN[reminder.milestone]:
            at = china_time(reminder.on, REMINDER_HOUR)
            if at >= schedule_from:
                timers.append(
                    Timer(
                        key=f"reminder:{reminder.milestone}:{reminder.due}:{reminder.days_before}",
                        at=at,
                        kind=TimerKind.REMINDER,
                        summary=f"remind: {reminder.milestone} due {reminder.due} "
                        f"({reminder.days_before} days)",
                        milestone=reminder.milestone,
                        due=reminder.due,
                    )
                )
    for milestone in Milestone:
        if stage in _ESCALATE_IN[milestone]:
            due = timeline.due(milestone)
            timers.append(
                Timer(
                    key=f"escalation:{milestone}:{due}",
                    at=end_of(due),
                    kind=TimerKind.ESCALATION,
                    summary=f"escalate: {milestone} was due {due}",
                    milestone=milestone,
                    due=due,
                )
            )
    if stage is Stage.AWAITING_INITIATION:
        opens = timeline.initiation_opens
        timers.append(
            Timer(
                key=f"window:{opens}",
                at=china_time(opens, WINDOW_HOUR),
                kind=TimerKind.WINDOW_OPENS,
                summary=f"initiation window opens {opens}",
                milestone=Milestone.INITIATION,
                due=timeline.initiation_due,
            )
        )
    for task in tasks:
        if (
            task.status is TaskStatus.OPEN
            and task.assignee is Assignee.CLERK
            and task.due is not None
            and not task.escalated
        ):
            timers.append(
                Timer(
                    key=f"task-overdue:{task.id}:{task.due}",
                    at=end_of(task.due),
                    kind=TimerKind.TASK_OVERDUE,
                    summary=f"escalate: {task.kind} {task.id} was due {task.due}",
                    task_id=task.id,
                    due=task.due,
                )
            )
    return sorted((t for t in timers if t.key not in fired), key=lambda t: (t.at, t.key))
