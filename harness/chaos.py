"""A chaos run: many cases in flight while the worker is killed (SIGKILL) in the middle of
activities and decisions, the Temporal dev server is restarted, the departments' systems (the
simulator's process) are killed for a while and restarted, and (on PostgreSQL) every database
connection of the worker and the harness is cut; afterwards every case must reach its end with
every side effect exactly once, every answered decision in the workflow and the audit log, no
drift, and every case's history replayable (``harness.replay_gate``). ``make chaos``
(``python -m harness.chaos [--cases N] [--database sqlite|postgres]``) prints the figures.

Everything runs on this machine on free ports, in a temporary folder (``harness.cluster``): the
dev server with a persistent database (so a restart keeps the histories), the worker as a
separate process (so SIGKILL is real), and the cases driven through the same Updates the API
sends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from contracts.people import Actor, Role
from contracts.workflow import Stage
from db.session import make_engine, make_sessionmaker
from harness.cluster import Cluster, run_stoppable
from harness.driver import Driver, ReadModelView, Script, Step, Waiting
from harness.exactly_once import Verdict, verdict
from harness.faults import drop_connections, unnamed
from harness.people import early_retirees
from harness.scratch import scratch_database
from policies import load_policy
from service.case_start import start_case
from service.temporal import connect
from workflows.case import RetirementCase
from workflows.dispatch import dispatcher_id

ORGANISATION = "emp-chaos"


@dataclass
class Figures:
    cases: int = 0
    database: str = "sqlite"
    completed: int = 0
    worker_kills: int = 0
    server_restarts: int = 0
    connection_drops: int = 0  # times every connection of the worker was cut (PostgreSQL)
    connections_dropped: int = 0
    outage_seconds: float = 0.0  # the departments' systems (the simulator's process) down
    outage_hit: list[str] = field(default_factory=list)  # steps seen failing: unreachable
    activity_retries: dict[str, int] = field(default_factory=dict)  # per type, beyond the 1st
    answered_decisions: int = 0  # decisions whose update was answered
    lost_decisions: int = 0  # answered, but not in the workflow
    verdict: Verdict | None = None  # decisions audited, side effects once, no drift
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.completed == self.cases
            and self.lost_decisions == 0
            and self.verdict is not None
            and self.verdict.clean
        )


OUTAGE = 6.0  # seconds, at least
MAX_OUTAGE = 60.0


async def run(
    cases: int = 12,
    kills: int = 4,
    timeout: float = 300,
    database: str = "sqlite",
    database_url: str | None = None,
) -> Figures:
    """``database``: a scratch ``sqlite`` or ``postgres`` database, or the migrated, empty
    ``database_url`` given (its ``application_name``, if any, marks the connections to drop)."""
    figures = Figures(cases=cases, database=database)
    started_at = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="retirement-chaos-") as folder_name:
        folder = Path(folder_name)
        with ExitStack() as stack:
            if database_url is None:
                name = f"chaos-{uuid.uuid4().hex[:8]}"
                database_url = stack.enter_context(
                    scratch_database(database, folder, application_name=name)
                )
            await _run(folder, database_url, figures, kills, timeout)
    figures.seconds = round(time.monotonic() - started_at, 1)
    return figures


async def _run(
    folder: Path, database_url: str, figures: Figures, kills: int, timeout: float
) -> None:
    # The deployed topology (docker-compose.yml): the workflows and the department steps in
    # worker processes of their own; a kill takes both at once.
    cluster = Cluster(folder, database_url, split_worker=True)
    settings = cluster.settings
    engine = make_engine(unnamed(database_url))
    sessions = make_sessionmaker(engine)
    cluster.start_server()
    cluster.start_departments()
    cluster.start_worker()
    try:
        client = await connect(settings)
        policy = load_policy()
        drivers = []
        for person, declaration in early_retirees(figures.cases, organisation=ORGANISATION):
            await asyncio.to_thread(
                cluster.departments.seed, person.id_number, person.name, actual_years=Decimal(16)
            )
            case = await start_case(
                client,
                person=person,
                policy=policy,
                secret=settings.case_secret,
                task_queue=settings.temporal_task_queue,
                declaration=declaration,
                declared_by=Actor(id="o", role=Role.EMPLOYER, organisation=ORGANISATION),
                request_id=f"declare-{person.id_number[-6:]}",
            )
            drivers.append(
                Driver(
                    case.handle,
                    person,
                    case.person_key,
                    Script(),
                    view=ReadModelView(sessions, case.handle.id),
                )
            )

        async def kill_and_restart() -> None:
            rng = random.Random(7)  # noqa: S311 - a repeatable schedule, not security
            for n in range(kills):
                await asyncio.sleep(rng.uniform(0.5, 1.5))
                dropped = await cut_connections()
                if dropped:
                    figures.connection_drops += 1
                    figures.connections_dropped += dropped
                await asyncio.sleep(rng.uniform(0.5, 1.5))
                cluster.kill_worker()
                figures.worker_kills += 1
                if n == kills // 2:
                    await asyncio.to_thread(cluster.restart_server)
                    figures.server_restarts += 1
                await asyncio.sleep(rng.uniform(0.2, 1.0))
                cluster.start_worker()

        async def cut_connections() -> int:
            """Cut the worker's database connections as soon as it has some (a worker just
            restarted has none yet); 0 on SQLite, which has no connections to cut."""
            for _ in range(50):
                dropped = await asyncio.to_thread(drop_connections, database_url)
                if dropped or not database_url.startswith("postgresql"):
                    return dropped
                await asyncio.sleep(0.1)
            return 0

        async def department_outage() -> None:
            """The departments' systems go down (the simulator's process SIGKILLed) once the
            first case reaches joint handling, and stay down at least OUTAGE seconds and until
            a department step has failed for want of its system (up to MAX_OUTAGE): the fault
            must hit running work, not a moment when none was asked. Then the process is
            started again on its database, as a department's system comes back after a
            crash."""
            deadline = time.monotonic() + timeout / 2
            while time.monotonic() < deadline:
                if any(d.last and d.last.stage is Stage.JOINT_HANDLING for d in drivers):
                    began = time.monotonic()
                    cluster.kill_departments()
                    try:
                        await asyncio.sleep(OUTAGE)
                        while time.monotonic() - began < MAX_OUTAGE and not await unreachable():
                            await asyncio.sleep(0.5)
                    finally:
                        await asyncio.to_thread(cluster.start_departments)
                    figures.outage_seconds = round(time.monotonic() - began, 1)
                    return
                await asyncio.sleep(0.2)

        async def unreachable() -> bool:
            """Some case's department step is being retried because its system could not be
            reached (the adapter's ``DepartmentUnavailable``); notes which steps."""
            for driver in drivers:
                with contextlib.suppress(Exception):  # a restarting server: look again later
                    described = await driver.handle.describe()
                    for pending in described.raw_description.pending_activities:
                        failure = pending.last_failure.application_failure_info
                        if pending.attempt > 1 and failure.type == "DepartmentUnavailable":
                            figures.outage_hit.append(pending.activity_type.name)
            return bool(figures.outage_hit)

        async def drive(driver: Driver) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    result = await driver.step(None)
                except Exception:
                    await asyncio.sleep(0.5)
                    continue
                if result is Step.DONE:
                    return
                if result is not Step.ACTED or isinstance(result, Waiting):
                    await asyncio.sleep(0.1)

        await asyncio.gather(kill_and_restart(), department_outage(), *(drive(d) for d in drivers))
        # The end: each workflow closed (a completed case may still be sending its last notice).
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                asyncio.gather(*(d.handle.result() for d in drivers), return_exceptions=True),
                timeout,
            )
        await asyncio.sleep(3)  # the last projections
        snapshots = [await d.handle.query(RetirementCase.progress) for d in drivers]
        applied = {(s.case_id, d.request_id) for s in snapshots for d in s.decisions}
        figures.completed = sum(s.stage is Stage.COMPLETED for s in snapshots)
        figures.answered_decisions = sum(len(d.answered) for d in drivers)
        figures.lost_decisions = sum(
            (d.handle.id, rid) not in applied for d in drivers for rid in d.answered
        )
        with cluster.departments.platform() as platform:
            figures.verdict = await verdict(
                client,
                sessions,
                platform,
                snapshots,
                run="chaos",
                also_replay=[dispatcher_id(cluster.settings.temporal_task_queue)],
            )
        figures.activity_retries = figures.verdict.histories.retries
    finally:
        cluster.stop()
        engine.dispose()
        if not figures.ok:
            cluster.keep_logs(Path("var") / "chaos-logs")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m harness.chaos", description=__doc__)
    parser.add_argument("--cases", type=int, default=12)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="postgres")
    args = parser.parse_args()
    figures = run_stoppable(run(cases=args.cases, kills=args.kills, database=args.database))
    report: dict[str, Any] = {**asdict(figures), "ok": figures.ok}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    sys.stdout.flush()
    os._exit(0 if figures.ok else 1)


if __name__ == "__main__":
    main()
