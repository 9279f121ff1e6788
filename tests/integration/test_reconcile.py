"""Reconciliation finds no drift after a real case, and finds the drift tampering leaves."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update
from temporalio.testing import WorkflowEnvironment

from adapters.departments import Platform
from contracts.people import Actor, Role
from contracts.workflow import Stage
from db.models import AuditLogRow, CaseRow
from db.session import make_engine, make_sessionmaker
from domain.policy import Policy
from harness.department_simulator import DepartmentSimulator
from harness.driver import Driver, ReadModelView, Script
from service.case_start import start_case
from service.reconcile import reconcile
from simulator.models import PensionAwardRow
from tests.integration.support import illness_case_retiring_next_month
from worker import DepartmentSystems, build_worker


async def test_reconcile_after_a_real_case_and_after_tampering(
    dev_server: WorkflowEnvironment,
    database_url: str,
    departments: DepartmentSimulator,
    platform: Platform,
    policy: Policy,
) -> None:
    client = dev_server.client
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    department_engine = make_engine(departments.database_url)
    department_sessions = make_sessionmaker(department_engine)
    person, declaration = illness_case_retiring_next_month()
    departments.seed(person.id_number, person.name, actual_years=Decimal(16))
    queue = f"rec-{uuid.uuid4().hex[:6]}"
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            systems = DepartmentSystems.over(platform, sessions)
            async with build_worker(client, queue, systems, executor):
                started = await start_case(
                    client,
                    person=person,
                    policy=policy,
                    secret=uuid.uuid4().bytes,
                    task_queue=queue,
                    declaration=declaration,
                    declared_by=Actor(id="o", role=Role.EMPLOYER, organisation="emp-can-1"),
                    request_id="declare-rec",
                )
                driver = Driver(
                    started.handle,
                    person,
                    started.person_key,
                    Script(),
                    view=ReadModelView(sessions, started.case_id),
                )
                final = await driver.run(timeout=90)
                assert final.stage is Stage.COMPLETED
                await started.handle.result()
                cid = started.case_id

                def settle() -> None:
                    # Pretend the last projection is two minutes old: reconcile judges it then.
                    with sessions.begin() as db:
                        db.execute(
                            update(CaseRow)
                            .where(CaseRow.case_id == cid)
                            .values(updated_at=datetime.now(UTC) - timedelta(minutes=2))
                        )

                for _ in range(100):
                    with sessions() as db:
                        row = db.get(CaseRow, cid)
                    if row is not None and row.stage == "completed":
                        break
                    await asyncio.sleep(0.1)
                settle()
                mine = [d for d in await reconcile(client, sessions, platform) if d.case_id == cid]
                assert mine == []

                # A second award for the case (written into social insurance's own database,
                # as only a fault there could), and a decision missing from the audit log.
                with department_sessions.begin() as db:
                    award = db.scalars(
                        select(PensionAwardRow).where(PensionAwardRow.case_id == cid)
                    ).one()
                    db.add(
                        PensionAwardRow(
                            idempotency_key=f"{cid}:forged",
                            case_id=cid,
                            id_number=award.id_number,
                            award_no=f"PA-FORGED-{cid[-8:]}",
                            first_month=award.first_month,
                            basic=award.basic,
                            personal_account=award.personal_account,
                            transitional=award.transitional,
                            monthly_amount=award.monthly_amount,
                            confirmed_by="nobody",
                        )
                    )
                with sessions.begin() as db:
                    db.execute(
                        delete(AuditLogRow).where(
                            AuditLogRow.case_id == cid,
                            AuditLogRow.action == "decide-formal-approval",
                        )
                    )
                problems = {
                    d.problem
                    for d in await reconcile(client, sessions, platform)
                    if d.case_id == cid
                }
                assert "2 pension awards for one case" in problems
                assert any(p.startswith("decision on formal-approval") for p in problems)
    finally:
        department_engine.dispose()
        engine.dispose()
