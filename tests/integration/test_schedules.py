"""The daily sweeps on a dev server: schedules created idempotently; the roster sweep starts the
cases of people retiring seven months ahead (once); the digest tells supervisors what is overdue."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adapters.departments import Platform
from contracts.identity import case_id
from contracts.people import Person
from contracts.sweeps import RosterSweepResult
from db.models import CaseRow, MessageRow, TaskRow
from db.session import make_engine, make_sessionmaker
from db.sweeps import DatabaseRoster, read_roster_csv
from domain.months import YearMonth
from domain.policy import Category, Policy
from domain.statutory import first_birth_month_retiring_from, statutory_retirement
from domain.timeline import CHINA_TZ
from harness.department_simulator import DepartmentSimulator
from service.schedules import OVERDUE_DIGEST, ROSTER_SWEEP, ensure_schedules
from service.settings import Settings
from tests.support.people import fixed_id_number
from worker import DepartmentSystems, build_worker, sweep_activities
from workflows.sweeps import MONTHS_AHEAD, OverdueDigestWorkflow, RosterSweepWorkflow

REGION = "220102"


def _person(birth: YearMonth, category: Category, serial: int) -> Person:
    male = category is Category.MALE
    return Person(
        id_number=fixed_id_number(
            date(birth.year, birth.month, 10), serial, female=not male, region=REGION
        ),
        name="王测试",
        category=category,
        region_code=REGION,
        employer_id="emp-roster-1",
    )


async def test_schedules_are_created_idempotently(
    dev_server: WorkflowEnvironment,
) -> None:
    queue = f"sched-{uuid.uuid4().hex[:6]}"
    assert await ensure_schedules(dev_server.client, queue) == [ROSTER_SWEEP, OVERDUE_DIGEST]
    assert await ensure_schedules(dev_server.client, queue) == [ROSTER_SWEEP, OVERDUE_DIGEST]
    for schedule_id in (ROSTER_SWEEP, OVERDUE_DIGEST):
        described = await dev_server.client.get_schedule_handle(schedule_id).describe()
        assert described.schedule.spec.time_zone_name == "Asia/Shanghai"
        assert described.schedule.action.task_queue == queue  # type: ignore[attr-defined]
    listed = [s.id async for s in await dev_server.client.list_schedules()]
    assert listed.count(ROSTER_SWEEP) == 1


async def test_roster_sweep_and_overdue_digest(
    dev_server: WorkflowEnvironment,
    database_url: str,
    departments: DepartmentSimulator,
    platform: Platform,
    policy: Policy,
    tmp_path: Path,
) -> None:
    client: Client = dev_server.client
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    target = YearMonth.of(datetime.now(CHINA_TZ).date()).plus(MONTHS_AHEAD)
    due_birth = first_birth_month_retiring_from(target, Category.FEMALE_CADRE, policy)
    if statutory_retirement(due_birth, Category.FEMALE_CADRE, policy).retirement_month != target:
        pytest.skip("no female cadre reaches statutory age in this month (the reform skips it)")
    serial = uuid.uuid4().int % 200
    due = _person(due_birth, Category.FEMALE_CADRE, serial)
    not_due = _person(due_birth.minus(24), Category.FEMALE_CADRE, serial)
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(
        "id_number,name,category,region_code,employer_id,agency_id\n"
        + "".join(
            f"{p.id_number},{p.name},{p.category},{p.region_code},{p.employer_id},\n"
            for p in (due, not_due)
        ),
        encoding="utf-8",
    )
    assert DatabaseRoster(sessions).load(read_roster_csv(roster_file)) == 2
    settings = Settings(
        database_url=database_url,
        temporal_task_queue=f"sweep-{uuid.uuid4().hex[:6]}",
        case_id_key=uuid.uuid4().hex,
    )
    queue = settings.temporal_task_queue
    systems = DepartmentSystems.over(platform, sessions)
    sweeps = sweep_activities(client, settings, sessions, systems.notifier)
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            async with build_worker(client, queue, systems, executor, sweeps):
                first: RosterSweepResult = await client.execute_workflow(
                    RosterSweepWorkflow.run, id=f"sweep-{uuid.uuid4().hex}", task_queue=queue
                )
                assert first.month == target
                assert first.started >= 1
                cid = case_id(due.id_number, settings.case_secret)
                described = await client.get_workflow_handle(cid).describe()
                assert described.status is not None
                not_due_id = case_id(not_due.id_number, settings.case_secret)
                with pytest.raises(RPCError, match="not found"):
                    await client.get_workflow_handle(not_due_id).describe()

                # Once the case is projected, the next sweep skips the person: no second case.
                def projected() -> bool:
                    with sessions() as db:
                        return db.get(CaseRow, cid) is not None

                for _ in range(100):
                    if await asyncio.to_thread(projected):
                        break
                    await asyncio.sleep(0.1)
                second: RosterSweepResult = await client.execute_workflow(
                    RosterSweepWorkflow.run, id=f"sweep-{uuid.uuid4().hex}", task_queue=queue
                )
                assert second.started == 0
                assert second.already >= 1

                # An escalated task in the read model: the digest tells its supervisors once.
                with sessions.begin() as db:
                    task = db.scalars(select(TaskRow).where(TaskRow.case_id == cid)).first()
                    assert task is not None  # the declare task of the roster case
                    task.escalated = True
                    task.department = "hr"
                    task.due = date.today() - timedelta(days=1)
                for _ in range(2):
                    digest = await client.execute_workflow(
                        OverdueDigestWorkflow.run, id=f"digest-{uuid.uuid4().hex}", task_queue=queue
                    )
                    assert digest.overdue_tasks >= 1
                # In the supervisors' message list once, in Chinese (the outbox).
                with sessions() as db:
                    sent = db.scalars(
                        select(MessageRow).where(
                            MessageRow.kind == "overdue-digest",
                            MessageRow.recipient == f"hr@{REGION}",
                            MessageRow.created_at >= datetime.now(UTC) - timedelta(minutes=5),
                        )
                    ).all()
                    assert len(sent) == 1
                    assert "项待办已超过办理期限" in sent[0].text
                await client.get_workflow_handle(cid).terminate("test over")
    finally:
        engine.dispose()


def test_a_bad_roster_row_is_refused_with_its_line(tmp_path: Path) -> None:
    roster = tmp_path / "bad.csv"
    roster.write_text(
        "id_number,name,category,region_code,employer_id,agency_id\n"
        "110105194912310021,李四,male,220102,emp-1,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"bad\.csv:2: ID number: check character"):
        read_roster_csv(roster)
