"""The daily sweeps Temporal Schedules start (``service/schedules.py``).

``RosterSweepWorkflow`` starts, from employers' rosters, the case of everyone whose statutory
retirement month is seven months ahead: their employer is asked to declare (and reminded) before
the T-6 deadline instead of declaring late. ``OverdueDigestWorkflow`` tells each department's
supervisors, region by region, which tasks are past their deadline.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.sweeps import SweepActivities
    from contracts.sweeps import DigestRequest, DigestResult, RosterSweep, RosterSweepResult
    from domain.months import YearMonth
    from domain.timeline import CHINA_TZ

MONTHS_AHEAD = 7  # T-7: a month before the declaration is due
RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10))


@workflow.defn
class RosterSweepWorkflow:
    @workflow.run
    async def run(self) -> RosterSweepResult:
        month = YearMonth.of(workflow.now().astimezone(CHINA_TZ).date()).plus(MONTHS_AHEAD)
        return await workflow.execute_activity_method(
            SweepActivities.start_roster_cases,
            RosterSweep(month=month),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
            summary=f"start the cases of people retiring in {month}",
        )


@workflow.defn
class OverdueDigestWorkflow:
    @workflow.run
    async def run(self) -> DigestResult:
        day = workflow.now().astimezone(CHINA_TZ).date()
        return await workflow.execute_activity_method(
            SweepActivities.send_overdue_digest,
            DigestRequest(day=day),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RETRY,
            summary=f"overdue digest of {day}",
        )
