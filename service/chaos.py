"""A chaos run: many cases in flight while the worker is killed (SIGKILL) again and again and
the Temporal dev server is restarted; afterwards every case must reach its end with every side
effect exactly once. ``make chaos`` (``python -m service.chaos [CASES]``) prints the figures.

Everything runs on this machine on free ports, in a temporary folder: the dev server with a
persistent database (so a restart keeps the histories), the worker as a separate process (so
SIGKILL is real), and the cases driven through the same Updates the API sends.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from contracts.case import Actor, Declaration, Person, Role
from db.migrate import upgrade
from db.models import AuditLogRow, FundPayout, NotificationRow, PensionAwardRow
from db.seed import seed_person
from db.session import make_engine, make_sessionmaker
from domain.early import Appraisal
from domain.idcard import check_character
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category
from domain.timeline import CHINA_TZ
from policies import load_policy
from service.cases import start_case
from service.cluster import Cluster
from service.driver import Driver, Script, Step, Waiting
from service.reconcile import reconcile
from service.temporal import connect

REGION = "220102"


@dataclass
class Figures:
    cases: int = 0
    completed: int = 0
    worker_kills: int = 0
    server_restarts: int = 0
    decisions: int = 0
    audited_decisions: int = 0
    pension_awards: int = 0
    duplicate_awards: int = 0
    fund_payouts: int = 0
    duplicate_payouts: int = 0
    notifications: int = 0
    drift: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.completed == self.cases
            and self.duplicate_awards == 0
            and self.duplicate_payouts == 0
            and self.decisions == self.audited_decisions
            and not self.drift
        )


def _people(count: int) -> list[tuple[Person, Declaration]]:
    """Women of 46 retiring early next month: their initiation window is open today."""
    requested = YearMonth.of(datetime.now(CHINA_TZ).date()).plus(1)
    birth = requested.minus(46 * 12)
    people = []
    for serial in range(count):
        first17 = f"{REGION}{birth.year:04d}{birth.month:02d}{1 + serial % 28:02d}{serial * 2:03d}"
        person = Person(
            id_number=first17 + check_character(first17),
            name=f"测试{serial}",
            category=Category.FEMALE_WORKER,
            region_code=REGION,
            employer_id="emp-chaos",
        )
        declaration = Declaration(
            path=RetirementPath.ILLNESS,
            contribution_years=Decimal(16),
            requested_month=requested,
            appraisal=Appraisal.COMPLETE_LOSS,
        )
        people.append((person, declaration))
    return people


async def run(cases: int = 12, kills: int = 4, timeout: float = 300) -> Figures:
    figures = Figures(cases=cases)
    started_at = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="retirement-chaos-") as folder_name:
        folder = Path(folder_name)
        database_url = f"sqlite:///{folder}/chaos.db"
        upgrade(database_url)
        cluster = Cluster(folder, database_url)
        settings = cluster.settings
        engine = make_engine(database_url)
        sessions = make_sessionmaker(engine)
        cluster.start_server()
        cluster.start_worker()
        try:
            client = await connect(settings)
            policy = load_policy()
            drivers = []
            for person, declaration in _people(cases):
                seed_person(sessions, person.id_number, person.name, actual_years=Decimal(16))
                case = await start_case(
                    client,
                    person=person,
                    policy=policy,
                    secret=settings.case_secret,
                    task_queue=settings.temporal_task_queue,
                    declaration=declaration,
                    declared_by=Actor(id="o", role=Role.EMPLOYER, organisation="emp-chaos"),
                    request_id=f"declare-{person.id_number[-6:]}",
                )
                drivers.append(Driver(case.handle, person, case.person_key, Script()))

            async def chaos() -> None:
                rng = random.Random(7)  # noqa: S311 - a repeatable schedule, not security
                for n in range(kills):
                    await asyncio.sleep(rng.uniform(1.0, 3.0))
                    cluster.kill_worker()
                    figures.worker_kills += 1
                    if n == kills // 2:
                        await asyncio.to_thread(cluster.restart_server)
                        figures.server_restarts += 1
                    await asyncio.sleep(rng.uniform(0.2, 1.0))
                    cluster.start_worker()

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

            await asyncio.gather(chaos(), *(drive(d) for d in drivers))
            for driver in drivers:
                snap = driver.last
                if snap is not None and snap.stage.value == "completed":
                    figures.completed += 1
                    figures.decisions += len(snap.decisions)
            await asyncio.sleep(3)  # the last projections
            with sessions() as db:
                awards = list(db.execute(
                    select(PensionAwardRow.case_id, func.count()).group_by(PensionAwardRow.case_id)
                ))  # fmt: skip
                payouts = list(db.execute(
                    select(FundPayout.case_id, func.count()).group_by(FundPayout.case_id)
                ))  # fmt: skip
                figures.pension_awards = sum(n for _, n in awards)
                figures.duplicate_awards = sum(n - 1 for _, n in awards if n > 1)
                figures.fund_payouts = sum(n for _, n in payouts)
                figures.duplicate_payouts = sum(n - 1 for _, n in payouts if n > 1)
                figures.notifications = db.scalar(select(func.count(NotificationRow.id))) or 0
                figures.audited_decisions = (
                    db.scalar(
                        select(func.count(AuditLogRow.id)).where(
                            AuditLogRow.action.like("decide-%"), AuditLogRow.result == "accepted"
                        )
                    )
                    or 0
                )
            figures.drift = [f"{d.case_id}: {d.problem}" for d in await reconcile(client, sessions)]
        finally:
            cluster.stop()
            engine.dispose()
    figures.seconds = round(time.monotonic() - started_at, 1)
    return figures


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    figures = asyncio.run(run(cases=cases))
    report: dict[str, Any] = {**figures.__dict__, "ok": figures.ok}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    sys.stdout.flush()
    os._exit(0 if figures.ok else 1)


if __name__ == "__main__":
    main()
