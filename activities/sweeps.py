"""The daily sweeps' steps: start the cases of people on employers' rosters reaching retirement
age in about seven months, and tell each department's supervisors what is overdue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from temporalio import activity

from activities.notifications import Notifier
from contracts.departments import Notification
from contracts.people import Person
from contracts.sweeps import DigestRequest, DigestResult, RosterSweep, RosterSweepResult
from domain.months import YearMonth
from domain.policy import Policy


@dataclass(frozen=True)
class OverdueTask:
    case_id: str
    task_id: str
    department: str
    region_code: str
    due: str
    due_estimated: bool = False  # no official holiday calendar for the due year yet


class Roster(Protocol):
    def due(self, month: YearMonth, policy: Policy) -> Sequence[Person]:
        """People on rosters whose statutory retirement month is ``month``."""
        ...

    def has_case(self, person_key: str) -> bool:
        """Whether the person has, or had, a case (a closed one is not restarted by a sweep)."""
        ...


class OverdueSource(Protocol):
    def overdue_tasks(self) -> Sequence[OverdueTask]: ...


class CaseStarter(Protocol):
    async def start(self, person: Person) -> tuple[str, bool]:
        """Start the person's case awaiting declaration: (person key, created)."""
        ...


class SweepActivities:
    def __init__(
        self,
        roster: Roster,
        starter: CaseStarter,
        overdue: OverdueSource,
        notifier: Notifier,
        policy_loader: Callable[[], Policy],
        key_of: Callable[[str], str],
    ) -> None:
        self._roster = roster
        self._starter = starter
        self._overdue = overdue
        self._notifier = notifier
        self._policy_loader = policy_loader
        self._key_of = key_of

    @activity.defn(name="sweeps.start_roster_cases")
    async def start_roster_cases(self, sweep: RosterSweep) -> RosterSweepResult:
        policy = await asyncio.to_thread(self._policy_loader)
        people = await asyncio.to_thread(self._roster.due, sweep.month, policy)
        started = already = 0
        for n, person in enumerate(people):
            activity.heartbeat(n)
            if await asyncio.to_thread(self._roster.has_case, self._key_of(person.id_number)):
                already += 1
                continue
            _, created = await self._starter.start(person)
            started += created
            already += not created
        return RosterSweepResult(
            month=sweep.month, due=len(people), started=started, already=already
        )

    @activity.defn(name="sweeps.send_overdue_digest")
    def send_overdue_digest(self, request: DigestRequest) -> DigestResult:
        by_queue: dict[tuple[str, str], list[OverdueTask]] = {}
        tasks = self._overdue.overdue_tasks()
        for task in tasks:
            by_queue.setdefault((task.department, task.region_code), []).append(task)
        for (department, region), items in sorted(by_queue.items()):
            lines = [
                f"{t.case_id} {t.task_id} due {t.due}{' (estimated)' if t.due_estimated else ''}"
                for t in items
            ]
            self._notifier.record(
                Notification(
                    idempotency_key=f"digest:{request.day}:{department}:{region}",
                    case_id="digest",
                    recipient_role="supervisor",
                    recipient=f"{department}@{region}",
                    kind="overdue-digest",
                    subject=f"{len(items)} overdue tasks on {request.day}",
                    body="\n".join(lines)[:2000],
                    variables={"day": request.day.isoformat(), "count": str(len(items))},
                )
            )
        return DigestResult(day=request.day, queues=len(by_queue), overdue_tasks=len(tasks))
