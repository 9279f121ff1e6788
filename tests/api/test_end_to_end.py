"""One case from declaration to completion, only through HTTP, on a real local Temporal server.

The Temporal CLI's dev server (with the custom search attributes registered), the real worker on
the database-backed department systems, and the service served by uvicorn on a free port in a
background thread — its own event loop, its own Temporal client, exactly as ``uvicorn
web.app:app`` runs it (the API with the pages beside it). The test talks to it with httpx over
TCP; every person involved (employer, the clerks of four departments) finds their work the way
they would: the employer on the case's page, each clerk through ``GET /inbox``.

The clock is real, so the case is one whose initiation window is open today whatever today is:
early retirement for illness, requested for next month (T). Its declaration is therefore late
(T-6 has passed) and is flagged so.

The declaration gives the person's mobile number, and the outbox's dispatcher runs: the person
gets their results by text and in the app, each once, and reads them on their case; neither
their number nor their ID number is anywhere in the case's Temporal history or in the logs.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.testing import WorkflowEnvironment

from contracts import search
from contracts.workflow import ContributionProblem, ContributionProblemKind
from db.session import make_engine, make_sessionmaker
from domain.idcard import mask
from domain.months import YearMonth
from harness.department_simulator import DepartmentSimulator
from simulator.models import (
    ContributionRecord,
    ContributionSettlement,
    FundAccountRow,
    FundPayout,
    InsuredStatusChange,
    MedicalInsuranceRecord,
    MedicalStatusChange,
    PaymentSchedule,
    PensionAwardRow,
    RetirementApproval,
    SmsRow,
)
from tests.api.conftest import REGION, api_settings, bearer
from tests.api.support import (
    Json,
    audit_of,
    case_of,
    decide,
    declare_body,
    eventually,
    illness_declaration,
    next_month,
    open_task,
    wait_stage,
)
from tests.support.people import new_id_number
from tests.support.served import served
from web.app import create_app
from worker import DepartmentSystems, build_worker, ensure_dispatcher

ORGANISATION = "emp-e2e-1"
NAME = "李秀兰"
FUND_BALANCE = Decimal("86000.00")
MOBILE = "13904312288"  # declared as "139 0431 2288"


def _count(sessions: sessionmaker[Session], model: Any, case_id: str) -> int:
    with sessions() as db:
        return db.scalar(select(func.count()).where(model.case_id == case_id)) or 0


async def test_a_case_from_declaration_to_completion_over_http(
    dev_server: WorkflowEnvironment,
    database_url: str,
    signing_key: tuple[Path, Path],
    departments: DepartmentSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    private, jwks = signing_key
    target = dev_server.client.service_client.config.target_host
    settings = api_settings(database_url, jwks, search_attributes=True, temporal_address=target)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)

    id_number = new_id_number(1980, 1, female=True)
    departments.seed(
        id_number,
        NAME,
        contribution_problems=[
            ContributionProblem(
                id="arrears-2019",
                kind=ContributionProblemKind.ARREARS,
                detail="three months unpaid in 2019",
                amount_yuan=Decimal("1260.00"),
            )
        ],
        actual_years=Decimal(16),
        account_balance=Decimal("98000.00"),
        fund_balance=FUND_BALANCE,
    )
    caplog.clear()  # the test's own seeding above names the person; the service must not
    employer = bearer(private, sub="e2e-officer", role="employer", organisation=ORGANISATION)
    clerks = {
        department: bearer(
            private, sub=f"e2e-{department}", role="clerk", department=department, region=REGION
        )
        for department in ("hr", "social-insurance", "medical-security", "provident-fund")
    }

    async def no_id_number(response: httpx.Response) -> None:
        await response.aread()
        assert id_number not in response.text, f"full ID number in {response.request.url}"

    platform = departments.platform()
    department_engine = make_engine(departments.database_url)
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            worker = build_worker(
                dev_server.client,
                settings.temporal_task_queue,
                DepartmentSystems.over(platform, sessions, settings),
                executor,
            )
            async with (
                worker,
                served(create_app(settings, sessions=sessions)) as base_url,
                httpx.AsyncClient(
                    base_url=base_url, timeout=30, event_hooks={"response": [no_id_number]}
                ) as http,
            ):
                health = await http.get("/health")
                assert health.json() == {"status": "ok", "database": "ok", "temporal": "ok"}
                dispatch = await ensure_dispatcher(dev_server.client, settings)
                case_id = await _run_case(http, employer, clerks, id_number)
                snapshot = await case_of(http, employer, case_id)
                await _check_audit(http, clerks["hr"], case_id)
                _check_department_records(
                    make_sessionmaker(department_engine), case_id, id_number, snapshot
                )
                await _check_visibility(dev_server, case_id)
                retiree = bearer(private, sub="e2e-retiree", role="individual", id_number=id_number)
                await _check_messages(
                    http, retiree, employer, case_id, make_sessionmaker(department_engine)
                )
                await _check_no_personal_data_in_histories(
                    dev_server, [case_id, dispatch], [id_number, MOBILE]
                )
                await dev_server.client.get_workflow_handle(dispatch).terminate("test over")
        for secret in (id_number, MOBILE):
            assert secret not in caplog.text
    finally:
        platform.close()
        department_engine.dispose()
        engine.dispose()


async def _run_case(
    http: httpx.AsyncClient,
    employer: dict[str, str],
    clerks: dict[str, dict[str, str]],
    id_number: str,
) -> str:
    body = declare_body(
        id_number, name=NAME, category="female-worker", declaration=illness_declaration()
    )
    body["person"]["mobile"] = "139 0431 2288"
    declared = await http.post("/cases", json=body, headers={**employer, "Idempotency-Key": "e2e"})
    assert declared.status_code == 201, declared.text
    case_id: str = declared.json()["case_id"]
    assert declared.json()["status"]["retirement_month"] == next_month()

    await decide(http, clerks["hr"], case_id, "pre-review")

    task = await open_task(http, employer, case_id, "settle-contributions")
    settled = await http.post(
        f"/cases/{case_id}/settlements",
        json={"task_id": task["id"], "note": "paid 1260.00 yuan, receipt 2026-118"},
        headers=employer,
    )
    assert settled.status_code == 200, settled.text

    await decide(http, clerks["social-insurance"], case_id, "confirm-contributions")
    await wait_stage(http, employer, case_id, "awaiting-initiation")
    initiated = await http.post(f"/cases/{case_id}/initiation", json={}, headers=employer)
    assert initiated.status_code == 200, initiated.text

    await decide(http, clerks["hr"], case_id, "formal-approval")
    # The departments work concurrently, each clerk finding their own task in their inbox. The
    # clerks take turns here: concurrent requests can deadlock the API on SQLite (see
    # test_app.py::test_concurrent_reads_do_not_lock_sqlite), which is not this test's.
    for department, kind in (
        ("social-insurance", "confirm-pension"),
        ("medical-security", "confirm-medical-years"),
        ("provident-fund", "fund-withdrawal"),
    ):
        await decide(http, clerks[department], case_id, kind)

    async def completed() -> Json | None:
        snapshot = await case_of(http, employer, case_id)
        return snapshot if snapshot["stage"] == "completed" else None

    snapshot = await eventually(completed, timeout=30, what="the case completed")
    assert snapshot["late_declaration"] is True
    assert snapshot["id_masked"] == mask(id_number)
    assert snapshot["closed_reason"] == "every department has reported"
    assert [t for t in snapshot["tasks"] if t["status"] == "open"] == []
    items = {item["key"]: item["status"] for item in snapshot["items"]}
    assert items == {
        "pension-eligibility": "done",
        "pension-deemed-years": "done",
        "special-job-early-retirement": "not-applicable",
        "illness-early-retirement": "done",
        "pension-payment": "done",
        "medical-deemed-years": "done",
        "provident-fund-withdrawal": "done",
        "one-child-reward": "not-applicable",
        "household-registration": "done",
    }
    assert snapshot["pension"]["first_month"] == str(YearMonth.parse(next_month()).plus(1))
    assert Decimal(str(snapshot["fund"]["amount"])) == FUND_BALANCE
    listed = await http.get("/cases", headers=employer, params={"stage": "completed"})
    assert [c["case_id"] for c in listed.json()["items"]] == [case_id]
    return case_id


EXPECTED_AUDIT = [
    ("declare", "employer", "e2e-officer", None),
    ("decide-pre-review", "clerk", "e2e-hr", "hr"),
    ("settle", "employer", "e2e-officer", None),
    ("decide-confirm-contributions", "clerk", "e2e-social-insurance", "social-insurance"),
    ("initiate", "employer", "e2e-officer", None),
    ("decide-formal-approval", "clerk", "e2e-hr", "hr"),
]
EXPECTED_JOINT = {
    ("decide-confirm-pension", "clerk", "e2e-social-insurance", "social-insurance"),
    ("decide-confirm-medical-years", "clerk", "e2e-medical-security", "medical-security"),
    ("decide-fund-withdrawal", "clerk", "e2e-provident-fund", "provident-fund"),
}


async def _check_audit(http: httpx.AsyncClient, hr: dict[str, str], case_id: str) -> None:
    async def complete() -> list[Json] | None:
        entries = await audit_of(http, hr, case_id)
        return entries if len(entries) >= len(EXPECTED_AUDIT) + len(EXPECTED_JOINT) else None

    entries = await eventually(complete, what="every action in the audit log")
    assert {e["result"] for e in entries} == {"accepted"}
    seen = [(e["action"], e["actor_role"], e["actor_id"], e["actor_department"]) for e in entries]
    assert seen[: len(EXPECTED_AUDIT)] == EXPECTED_AUDIT
    assert set(seen[len(EXPECTED_AUDIT) :]) == EXPECTED_JOINT
    assert len(seen) == len(EXPECTED_AUDIT) + len(EXPECTED_JOINT)
    for entry in entries:
        if entry["actor_role"] == "employer":
            assert entry["actor_organisation"] == ORGANISATION
        else:
            assert entry["actor_region"] == REGION
        assert entry["at_counter"] is False


def _check_department_records(
    sessions: sessionmaker[Session], case_id: str, id_number: str, snapshot: Json
) -> None:
    """What the departments' systems (the simulator's own database) recorded for the case."""
    for model in (
        PensionAwardRow,
        FundPayout,
        InsuredStatusChange,
        MedicalStatusChange,
        ContributionSettlement,
        RetirementApproval,
    ):
        assert _count(sessions, model, case_id) == 1, model.__tablename__
    with sessions() as db:
        award = db.scalars(select(PensionAwardRow).where(PensionAwardRow.case_id == case_id)).one()
        schedules = db.scalars(
            select(PaymentSchedule).where(PaymentSchedule.award_id == award.id)
        ).all()
        assert len(schedules) == 1
        assert schedules[0].start_month == snapshot["pension"]["first_month"]
        assert schedules[0].monthly_amount == award.monthly_amount
        assert award.monthly_amount == Decimal(str(snapshot["pension"]["monthly_amount"]))
        assert award.confirmed_by == "e2e-social-insurance"
        assert award.award_no == snapshot["pension"]["award_id"]

        payout = db.scalars(select(FundPayout).where(FundPayout.case_id == case_id)).one()
        assert payout.amount == FUND_BALANCE
        assert payout.approved_by == "e2e-provident-fund"
        account = db.get(FundAccountRow, id_number)
        assert account is not None and account.status == "closed"

        switch = db.scalars(
            select(InsuredStatusChange).where(InsuredStatusChange.case_id == case_id)
        ).one()
        assert (switch.from_status, switch.to_status) == ("contributor", "retiree")
        assert switch.effective_month == next_month()
        record = db.get(ContributionRecord, id_number)
        assert record is not None and record.insured_status == "retiree"
        assert all(problem["settled"] for problem in record.problems)

        medical = db.scalars(
            select(MedicalStatusChange).where(MedicalStatusChange.case_id == case_id)
        ).one()
        assert medical.outcome == snapshot["medical"]["outcome"]
        medical_record = db.get(MedicalInsuranceRecord, id_number)
        assert medical_record is not None and medical_record.status == medical.outcome


async def _check_visibility(dev_server: WorkflowEnvironment, case_id: str) -> None:
    query = f"WorkflowId = '{case_id}' AND RetirementStage = 'completed'"

    async def found() -> list[str] | None:
        ids = [w.id async for w in dev_server.client.list_workflows(query)]
        return ids or None

    assert await eventually(found, what="the case in a visibility query") == [case_id]
    handle = dev_server.client.get_workflow_handle(case_id)
    described = await handle.describe()
    attributes = described.typed_search_attributes
    assert attributes.get(search.STAGE) == "completed"
    assert attributes.get(search.REGION) == REGION
    assert attributes.get(search.RETIREMENT_MONTH) == next_month()
    assert not attributes.get(search.PENDING_DEPARTMENTS)  # an empty list reads back as unset


async def _check_messages(
    http: httpx.AsyncClient,
    retiree: dict[str, str],
    employer: dict[str, str],
    case_id: str,
    department_sessions: sessionmaker[Session],
) -> None:
    """The person's results reach their phone and app once each, and their case page."""

    async def delivered() -> Json | None:
        answer = await http.get(f"/cases/{case_id}/messages", headers=retiree)
        assert answer.status_code == 200, answer.text
        listed: Json = answer.json()
        kinds = {m["kind"] for m in listed["items"]}
        settled = all(d["status"] == "sent" for m in listed["items"] for d in m["deliveries"])
        return listed if {"rights-notice", "case-completed"} <= kinds and settled else None

    listed = await eventually(delivered, timeout=30, what="the results texted and pushed")
    assert listed["mobile_masked"] == "139****2288"
    assert {m["to"] for m in listed["items"]} == {"individual"}
    [rights] = [m for m in listed["items"] if m["kind"] == "rights-notice"]
    assert rights["title"] == "退休审批通过（权益告知）"
    assert f"自{next_month()[:4]}年" in rights["text"]
    assert {d["channel"] for d in rights["deliveries"]} == {"sms", "app"}
    # The employer reads its own messages only, and never the person's number.
    theirs = (await http.get(f"/cases/{case_id}/messages", headers=employer)).json()
    assert theirs["mobile_masked"] is None
    assert {m["to"] for m in theirs["items"]} <= {"organisation"}
    # The SMS platform's own record: one text per message, to the number declared.
    with department_sessions() as db:
        texts = db.scalars(select(SmsRow).where(SmsRow.case_id == case_id)).all()
    assert len(texts) == len(listed["items"])
    assert {t.mobile for t in texts} == {MOBILE}
    assert all(t.text.startswith("【吉林人社】") for t in texts)
    assert sorted(t.text for t in texts) == sorted(
        f"【吉林人社】{m['text']}" for m in listed["items"]
    )


async def _check_no_personal_data_in_histories(
    dev_server: WorkflowEnvironment, workflow_ids: list[str], secrets: list[str]
) -> None:
    """The histories as the Temporal server keeps them (read without the codec): payloads are
    ciphertext, and nothing else (ids, search attributes, summaries) carries personal data."""
    client = dev_server.client
    for workflow_id in workflow_ids:
        token = b""
        raw = b""
        while True:
            page = await client.workflow_service.get_workflow_execution_history(
                GetWorkflowExecutionHistoryRequest(
                    namespace=client.namespace,
                    execution=WorkflowExecution(workflow_id=workflow_id),
                    next_page_token=token,
                )
            )
            raw += page.history.SerializeToString()
            token = page.next_page_token
            if not token:
                break
        assert raw, workflow_id
        for secret in secrets:
            assert secret.encode() not in raw, f"{workflow_id}'s history holds personal data"
