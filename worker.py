"""The Temporal worker: runs the case workflow, every department step, or both (``WORKER_RUNS``;
deployed as two processes on one task queue, one for each).

Configuration comes from the environment (``service.settings``). SIGTERM or SIGINT drains the
worker gracefully: no new tasks are taken and running activities are given time to finish.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

from activities.health_commission import HealthCommissionActivities, HealthCommissionSystem
from activities.hr import HrActivities, HrSystem
from activities.medical_security import MedicalSecurityActivities, MedicalSystem
from activities.notifications import Dispatcher, DispatchRequest, NotificationActivities, Notifier
from activities.policy import load_current_policy
from activities.provident_fund import ProvidentFundActivities, ProvidentFundSystem
from activities.public_security import HouseholdRegistry, PublicSecurityActivities
from activities.read_model import ReadModel, ReadModelActivities
from activities.social_insurance import SocialInsuranceActivities, SocialInsuranceSystem
from activities.sweeps import SweepActivities
from adapters.departments import Platform
from adapters.platform import DepartmentUnavailable, MalformedAnswer
from db.contacts import mobile_of
from db.outbox import Outbox
from db.read_model import DatabaseReadModel
from db.session import make_engine, make_sessionmaker
from db.sweeps import DatabaseOverdue, DatabaseRoster
from notifications.templates import templates
from policies import load_policy
from service.departments import connect_platform
from service.logs import configure_logging
from service.schedules import TemporalCaseStarter
from service.settings import Settings, WorkerRuns, get_settings
from service.temporal import configure_runtime, connect, payload_codec
from workflows.case import RetirementCase
from workflows.dispatch import MessageDispatchWorkflow, dispatcher_id
from workflows.sweeps import OverdueDigestWorkflow, RosterSweepWorkflow

log = structlog.get_logger("worker")


@dataclass(frozen=True)
class DepartmentSystems:
    """The department systems the activities talk to: swap one for a real adapter here."""

    household: HouseholdRegistry
    hr: HrSystem
    social_insurance: SocialInsuranceSystem
    medical: MedicalSystem
    provident_fund: ProvidentFundSystem
    health: HealthCommissionSystem
    notifier: Notifier
    read_model: ReadModel
    dispatcher: Dispatcher | None = None

    @classmethod
    def over(
        cls, platform: Platform, sessions: sessionmaker[Session], settings: Settings | None = None
    ) -> DepartmentSystems:
        """The departments through the data-sharing platform; the read model and the outbox in
        the database, its messages sent through the platform's SMS and app channels (mobile
        numbers unsealed with the key ring of ``settings``, by default the environment's)."""
        config = settings or get_settings()
        outbox = Outbox(sessions, templates(), lease=timedelta(seconds=config.outbox_lease))
        keys = payload_codec(config)

        def mobile(person_key: str) -> str | None:
            with sessions() as db:
                return mobile_of(db, person_key, keys)

        return cls(
            household=platform.household,
            hr=platform.hr,
            social_insurance=platform.social_insurance,
            medical=platform.medical,
            provident_fund=platform.provident_fund,
            health=platform.health,
            notifier=outbox,
            read_model=DatabaseReadModel(sessions),
            dispatcher=Dispatcher(
                outbox,
                platform.sms,
                platform.app_push,
                mobile,
                _transient,
                sms_sign=templates().sms_sign,
            ),
        )


def _transient(exc: Exception) -> bool:
    """A channel failure worth another try: the channel was unreachable, in trouble, or
    answered outside its contract (a proxy's error page). A refusal is not."""
    return isinstance(exc, DepartmentUnavailable | MalformedAnswer)


def activities_for(systems: DepartmentSystems) -> Sequence[Callable[..., Any]]:
    """Every activity the case workflow calls, bound to its department system: each
    ``*Activities`` object's methods marked ``@activity.defn``, found rather than listed, so a
    step added to a department's class is registered without a second place to remember."""
    bound = [
        PublicSecurityActivities(systems.household),
        HrActivities(systems.hr),
        SocialInsuranceActivities(systems.social_insurance),
        MedicalSecurityActivities(systems.medical),
        ProvidentFundActivities(systems.provident_fund),
        HealthCommissionActivities(systems.health),
        NotificationActivities(systems.notifier, systems.dispatcher),
        ReadModelActivities(systems.read_model),
    ]
    found: list[Callable[..., Any]] = [
        getattr(owner, name)
        for owner in bound
        for name in sorted(vars(type(owner)))
        if hasattr(getattr(type(owner), name), "__temporal_activity_definition")
    ]
    return [*found, load_current_policy]


class _BindActivityContext(ActivityInboundInterceptor):
    """Every log line of an activity carries its workflow id, run id and activity type."""

    def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        structlog.contextvars.bind_contextvars(
            workflow_id=info.workflow_id,
            run_id=info.workflow_run_id,
            activity=info.activity_type,
            attempt=info.attempt,
        )
        try:
            return self.next.execute_activity(input)
        finally:
            structlog.contextvars.clear_contextvars()


class LogContextInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindActivityContext(next)


def sweep_activities(
    client: Client, settings: Settings, sessions: sessionmaker[Session], notifier: Notifier
) -> SweepActivities:
    """The daily sweeps' steps: rosters and overdue tasks from the database, cases started
    through this client."""
    starter = TemporalCaseStarter(
        client=client,
        policy=load_policy(),
        secret=settings.case_secret,
        task_queue=settings.temporal_task_queue,
        search_attributes=settings.temporal_search_attributes,
    )
    return SweepActivities(
        roster=DatabaseRoster(sessions),
        starter=starter,
        overdue=DatabaseOverdue(sessions),
        notifier=notifier,
        policy_loader=load_policy,
        key_of=starter.key_of,
    )


STICKY_TIMEOUT = timedelta(seconds=3)

WORKFLOWS = [RetirementCase, RosterSweepWorkflow, OverdueDigestWorkflow, MessageDispatchWorkflow]


def build_worker(
    client: Client,
    task_queue: str,
    systems: DepartmentSystems | None,
    executor: ThreadPoolExecutor | None,
    sweeps: SweepActivities | None = None,
    *,
    workflow_task_slots: int = 20,
    workflow_cache_size: int = 100,
    runs: WorkerRuns = "everything",
) -> Worker:
    """The worker of the case workflow (and, given ``sweeps``, of the daily sweeps).

    ``runs`` splits the work between processes polling the same task queue: ``"workflows"``
    takes only workflow tasks (``systems`` and ``executor`` are not used and may be ``None``),
    ``"activities"`` only the department steps and projections. Split, the workflow tasks that
    answer a clerk's decision no longer share one interpreter lock with sixteen busy activity
    threads (docs/performance.md, item 17).

    ``workflow_task_slots`` bounds the workflow tasks taken at once. The SDK's default (100, run
    on up to 500 threads) lets a burst of new cases — each needing a fresh sandboxed workflow
    instance — pile up inside one GIL-bound process until tasks pass their 10-second timeout,
    are retried, and the worker does little else. ``workflow_cache_size`` bounds the cases kept
    in memory between steps (the SDK's default is 1000; each held 0.4-0.8 MB, measured): a case
    waits weeks between most of its steps, so a cached one is rarely used again before it is
    evicted, and a decision on a case that waited days for its clerk replays it whatever the
    size (docs/performance.md, items 3 and 18).

    A case's next workflow task goes first to the worker that ran its last one (its sticky
    queue). When that worker has died, the task waits there ``STICKY_TIMEOUT`` before any worker
    may take it (the SDK's default is 10 s). Shorter, the cases of a killed worker resume sooner,
    and the moments shrink in which another worker can answer a query about such a case with its
    waiting events already applied, which makes a decision sent then unreplayable
    (docs/reliability.md); the cost is a full replay elsewhere whenever a live worker leaves a
    task there that long."""
    options: dict[str, Any] = {}
    if runs != "activities":
        options.update(
            workflows=WORKFLOWS,
            max_concurrent_workflow_tasks=workflow_task_slots,
            max_cached_workflows=workflow_cache_size,
            sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
        )
    if runs != "workflows":
        if systems is None or executor is None:
            raise ValueError(f"a worker that runs {runs} needs the department systems and threads")
        extra: list[Callable[..., Any]] = []
        if sweeps is not None:
            extra = [sweeps.start_roster_cases, sweeps.send_overdue_digest]
        options.update(
            activities=[*activities_for(systems), *extra],
            activity_executor=executor,
            max_concurrent_activities=executor._max_workers,
        )
    return Worker(
        client,
        task_queue=task_queue,
        interceptors=[LogContextInterceptor()],
        graceful_shutdown_timeout=timedelta(seconds=20),
        **options,
    )


async def run(settings: Settings) -> None:
    configure_runtime(settings.worker_metrics_address)
    client = await connect(settings)
    runs = settings.worker_runs
    async with AsyncExitStack() as stack:
        systems: DepartmentSystems | None = None
        executor: ThreadPoolExecutor | None = None
        sweeps: SweepActivities | None = None
        if runs != "workflows":
            # Activities and the projections share the executor's threads, and a connection each.
            engine = make_engine(settings.database_url, pool_size=settings.activity_threads)
            stack.callback(engine.dispose)
            sessions = make_sessionmaker(engine)
            platform = connect_platform(settings)
            stack.callback(platform.close)
            systems = DepartmentSystems.over(platform, sessions, settings)
            sweeps = sweep_activities(client, settings, sessions, systems.notifier)
            executor = stack.enter_context(
                ThreadPoolExecutor(max_workers=settings.activity_threads)
            )
        worker = build_worker(
            client,
            settings.temporal_task_queue,
            systems,
            executor,
            sweeps,
            workflow_task_slots=settings.workflow_task_slots,
            workflow_cache_size=settings.workflow_cache_size,
            runs=runs,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info(
            "worker started",
            runs=runs,
            metrics=settings.worker_metrics_address,
            temporal=settings.temporal_address,
            namespace=settings.temporal_namespace,
            task_queue=settings.temporal_task_queue,
        )
        async with worker:
            if runs != "activities":
                await ensure_dispatcher(client, settings)
            await stop.wait()
            log.info("worker draining")
    log.info("worker stopped")


async def ensure_dispatcher(client: Client, settings: Settings) -> str:
    """Start the outbox's ``MessageDispatch`` workflow unless it runs already (one per task
    queue, by its id: every worker asks, the first one starts it); its id. Its heartbeat
    timeout outlasts one send (``DEPARTMENT_TIMEOUT``), so a slow channel is not taken for a
    dead worker."""
    queue = settings.temporal_task_queue
    handle = await client.start_workflow(
        MessageDispatchWorkflow.run,
        DispatchRequest(heartbeat=settings.department_timeout + 5),
        id=dispatcher_id(queue),
        task_queue=queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return handle.id


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
