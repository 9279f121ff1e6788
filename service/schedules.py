"""Temporal Schedules for the daily sweeps, created or brought up to date idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from contracts.identity import person_key
from contracts.people import Person
from domain.policy import Policy
from service.case_start import start_case
from workflows.sweeps import OverdueDigestWorkflow, RosterSweepWorkflow

TIME_ZONE = "Asia/Shanghai"
ROSTER_SWEEP = "retirement-roster-sweep"
OVERDUE_DIGEST = "retirement-overdue-digest"


def schedules(task_queue: str) -> dict[str, Schedule]:
    """The daily roster sweep at 02:00 and the overdue digest at 08:00, China time. A run that
    overlaps the previous one is skipped; missed runs catch up within a day."""
    policy = SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1))
    return {
        ROSTER_SWEEP: Schedule(
            action=ScheduleActionStartWorkflow(
                RosterSweepWorkflow.run, id=ROSTER_SWEEP, task_queue=task_queue
            ),
            spec=ScheduleSpec(cron_expressions=["0 2 * * *"], time_zone_name=TIME_ZONE),
            policy=policy,
        ),
        OVERDUE_DIGEST: Schedule(
            action=ScheduleActionStartWorkflow(
                OverdueDigestWorkflow.run, id=OVERDUE_DIGEST, task_queue=task_queue
            ),
            spec=ScheduleSpec(cron_expressions=["0 8 * * *"], time_zone_name=TIME_ZONE),
            policy=policy,
        ),
    }


async def ensure_schedules(client: Client, task_queue: str) -> list[str]:
    """Create each schedule, or update it to this definition if it exists: safe to repeat."""
    for schedule_id, schedule in schedules(task_queue).items():
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput, new: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=new)

            await client.get_schedule_handle(schedule_id).update(replace)
    return list(schedules(task_queue))


@dataclass
class TemporalCaseStarter:
    """Starts a roster person's case, awaiting the employer's declaration."""

    client: Client
    policy: Policy
    secret: bytes
    task_queue: str
    search_attributes: bool

    async def start(self, person: Person) -> tuple[str, bool]:
        started = await start_case(
            self.client,
            person=person,
            policy=self.policy,
            secret=self.secret,
            task_queue=self.task_queue,
            search_attributes=self.search_attributes,
        )
        return started.person_key, started.created

    def key_of(self, id_number: str) -> str:
        return person_key(id_number, self.secret)
