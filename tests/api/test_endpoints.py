"""Every endpoint of ``api/routes`` on its success path and its main failures.

The app runs in-process over the time-skipping Temporal test server (``api`` fixture), whose clock
is the real one unless a test moves it: "today" is today, so dates are computed, not assumed. The
database is shared by every test of a session, so each test uses its own people, organisation
and — where it counts inboxes or lists — its own region.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.routes import cases as api_routes_cases
from api.workflow_gateway import NOT_PROJECTED, snapshot_of
from contracts.case import Person
from contracts.identity import case_id as case_id_for
from contracts.workflow import ContributionProblem, ContributionProblemKind
from db.session import make_engine, make_sessionmaker
from domain.idcard import check_character, mask
from harness.binaries import temporal_test_server
from harness.department_simulator import DepartmentSimulator
from policies import load_policy
from service.case_start import start_case
from service.temporal import DATA_CONVERTER
from tests.api.conftest import REGION, Api, serve
from tests.api.support import (
    Json,
    assert_no_id_number,
    assert_problem,
    audit_entry,
    audit_of,
    case_of,
    decide,
    declare_body,
    eventually,
    illness_declaration,
    inbox_task,
    new_id_number,
    new_region,
    next_month,
    normal_declaration,
    open_task,
    wait_stage,
)

# A man born 1967-01 retires in 2027-08 (statutory, 7 months' delay): initiation opens 2027-07-01.
NORMAL_BORN = (1967, 1)
NORMAL_T = "2027-08"
NORMAL_OPENS = "2027-07-01"
ILLNESS_BORN = (1980, 1)  # a female worker: early retirement for illness from 45


def _org() -> str:
    return f"emp-{uuid.uuid4().hex[:8]}"


def _employer(api: Api, org: str) -> dict[str, str]:
    return api.as_(role="employer", organisation=org, sub=f"{org}-officer")


def _clerk(
    api: Api, department: str, region: str = REGION, sub: str | None = None
) -> dict[str, str]:
    return api.as_(role="clerk", department=department, region=region, sub=sub or f"{department}-c")


def _problem() -> ContributionProblem:
    return ContributionProblem(
        id="arrears-1",
        kind=ContributionProblemKind.ARREARS,
        detail="three months unpaid in 2019",
        amount_yuan=Decimal("1260.00"),
    )


async def _declare(
    api: Api,
    employer: dict[str, str],
    *,
    illness: bool = False,
    born: tuple[int, int] = NORMAL_BORN,
    region: str = REGION,
    problems: tuple[ContributionProblem, ...] = (),
    declaration: Json | None = None,
    name: str = "王建国",
) -> tuple[str, str]:
    """Seed a fresh person's department records and declare them: (case id, ID number)."""
    if illness:
        born = ILLNESS_BORN
    female = illness
    id_number = new_id_number(*born, female=female)
    api.departments.seed(id_number, name, contribution_problems=problems)
    body = declare_body(
        id_number,
        name=name,
        category="female-worker" if illness else "male",
        region=region,
        declaration=declaration or (illness_declaration() if illness else normal_declaration()),
    )
    response = await api.http.post("/cases", json=body, headers=employer)
    assert response.status_code == 201, response.text
    assert_no_id_number(response, id_number)
    return response.json()["case_id"], id_number


async def _to_initiation(api: Api, employer: dict[str, str], case_id: str, region: str) -> None:
    """Pre-review approved, no contribution problem, contributions confirmed."""
    await decide(api.http, _clerk(api, "hr", region), case_id, "pre-review")
    await decide(
        api.http, _clerk(api, "social-insurance", region), case_id, "confirm-contributions"
    )
    await wait_stage(api.http, employer, case_id, "awaiting-initiation")


def _loose(api: Api) -> httpx.AsyncClient:
    """A client that shows an unhandled exception as the 500 a server would answer with."""
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://api")


# ---- POST /cases --------------------------------------------------------------------------


async def test_declare_starts_a_case_once_per_idempotency_key(api: Api) -> None:
    org = _org()
    employer = _employer(api, org)
    id_number = new_id_number(*NORMAL_BORN)
    api.departments.seed(id_number, "王建国")
    body = declare_body(id_number)
    keyed = {**employer, "Idempotency-Key": f"declare-{id_number}"}

    first = await api.http.post("/cases", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["created"] is True
    assert created["case_id"].startswith("retirement-")
    # The case as the read model shows it when the answer is made: declared, and perhaps past
    # public security's check already.
    assert created["status"]["stage"] in ("declaration", "pre-review")
    assert created["status"]["retirement_month"] == NORMAL_T
    assert_no_id_number(first, id_number)

    again = await api.http.post("/cases", json=body, headers=keyed)
    assert again.status_code == 201
    assert again.json() == created

    changed = declare_body(id_number, name="王建军")
    reused = await api.http.post("/cases", json=changed, headers=keyed)
    assert_problem(reused, 422, slug="idempotency-key-reused")

    # A second declaration of the same person, by the same employer with another key: the case
    # is declared already, so it is a conflict, and nothing is started twice.
    second = await api.http.post("/cases", json=body, headers=employer)
    assert_problem(second, 409, slug="wrong-stage", detail="declared")
    # ... also when the person is given by the legacy 15-digit form of the same number.
    legacy = id_number[:6] + id_number[8:17]
    third = await api.http.post("/cases", json=declare_body(legacy), headers=employer)
    assert_problem(third, 409, slug="wrong-stage")
    assert_no_id_number(third, id_number)
    snapshot = await case_of(api.http, employer, created["case_id"])
    assert [e["actor"] for e in snapshot["events"]].count(f"employer:{org}-officer@{org}") == 1


async def test_concurrent_retries_with_one_key_start_one_case(api: Api) -> None:
    employer = {**_employer(api, _org()), "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    id_number = new_id_number(*NORMAL_BORN)
    api.departments.seed(id_number, "王建国")
    body = declare_body(id_number)
    answers = await asyncio.gather(
        *(api.http.post("/cases", json=body, headers=employer) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert answers[0].json() == answers[1].json() == answers[2].json()


async def test_declaring_a_roster_started_case_declares_it(api: Api) -> None:
    """A case started from the roster waits for the employer: POST /cases declares it (200)."""
    org = _org()
    employer = _employer(api, org)
    id_number = new_id_number(*NORMAL_BORN)
    api.departments.seed(id_number, "王建国")
    person = Person(
        id_number=id_number, name="王建国", category="male", region_code=REGION, employer_id=org
    )
    started = await start_case(
        api.env.client,
        person=person,
        policy=load_policy(),
        secret=api.settings.case_secret,
        task_queue=api.settings.temporal_task_queue,
        search_attributes=False,
    )
    assert started.created

    # Another organisation may not declare someone else's employee.
    stranger = await api.http.post(
        "/cases", json=declare_body(id_number), headers=_employer(api, _org())
    )
    assert_problem(stranger, 403, slug="wrong-organisation")

    response = await api.http.post("/cases", json=declare_body(id_number), headers=employer)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == {**answer, "case_id": started.case_id, "created": False}
    assert answer["status"]["stage"] == "declaration"
    assert_no_id_number(response, id_number)
    snapshot = await case_of(api.http, employer, started.case_id)
    declare_tasks = [t for t in snapshot["tasks"] if t["kind"] == "declare"]
    assert [t["status"] for t in declare_tasks] == ["done"]


async def test_declaring_another_organisations_declared_case_discloses_nothing(api: Api) -> None:
    owner = _employer(api, _org())
    case_id, id_number = await _declare(api, owner)
    await wait_stage(api.http, owner, case_id, "pre-review")
    stranger = await api.http.post(
        "/cases", json=declare_body(id_number), headers=_employer(api, _org())
    )
    assert_problem(stranger, 403, slug="wrong-organisation")
    assert "pre-review" not in stranger.text


def _born_on(born: date) -> str:
    """A man's ID number with a valid check character, born on ``born`` (even in the future)."""
    first17 = f"{REGION}{born:%Y%m%d}001"
    return first17 + check_character(first17)


def _bad_check_character() -> str:
    good = new_id_number(*NORMAL_BORN)
    return good[:17] + ("0" if good[17] != "0" else "1")


_FUTURE = date.today() + timedelta(days=400)
DECLARATION_REFUSALS: list[tuple[str, Json, int, str, str]] = [
    (
        "check-character",
        declare_body(_bad_check_character()),
        422,
        "invalid-id-number",
        "check character",
    ),
    (
        "future-birth-date",
        declare_body(_born_on(_FUTURE)),
        422,
        "invalid-id-number",
        "in the future",
    ),
    (
        "category-not-the-ids-gender",
        declare_body(new_id_number(*NORMAL_BORN), category="female-worker"),
        422,
        "validation",
        "does not match the ID number's gender",
    ),
    (
        "flexible-notice-too-late",
        declare_body(
            new_id_number(1970, 1),
            declaration={
                "path": "flexible-early",
                "contribution_years": 30,
                "requested_month": "2030-06",
                "flexible": {"notice_month": "2030-05"},
            },
        ),
        422,
        "rule-refusal",
        "flexible.early.notice",
    ),
    (
        "illness-without-complete-loss",
        declare_body(
            new_id_number(*ILLNESS_BORN, female=True),
            category="female-worker",
            declaration=illness_declaration(appraisal="partial-loss", contribution_years=10),
        ),
        422,
        "rule-refusal",
        "early.illness.appraisal",
    ),
    (
        "early-path-without-requested-month",
        declare_body(
            new_id_number(*ILLNESS_BORN, female=True),
            category="female-worker",
            declaration={"path": "illness", "contribution_years": 16, "appraisal": "complete-loss"},
        ),
        422,
        "validation",
        "requested_month",
    ),
    (
        "unknown-field",
        {**declare_body(new_id_number(*NORMAL_BORN)), "extra": 1},
        422,
        "validation",
        "extra",
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "slug", "detail"),
    [pytest.param(*row[1:], id=row[0]) for row in DECLARATION_REFUSALS],
)
async def test_declaration_refusals_say_why(
    api: Api, body: Json, status: int, slug: str, detail: str
) -> None:
    response = await api.http.post("/cases", json=body, headers=_employer(api, _org()))
    problem = assert_problem(response, status, slug=slug, detail=detail)
    assert problem["instance"] == "/cases"
    assert_no_id_number(response, body["person"]["id_number"])


async def test_only_employers_and_agencies_declare(api: Api) -> None:
    body = declare_body(new_id_number(*NORMAL_BORN))
    clerk = await api.http.post("/cases", json=body, headers=_clerk(api, "hr"))
    assert_problem(clerk, 403, slug="forbidden")
    retiree = api.as_(role="individual", id_number=body["person"]["id_number"])
    self_declared = await api.http.post("/cases", json=body, headers=retiree)
    assert_problem(self_declared, 403, slug="forbidden")
    anonymous = await api.http.post("/cases", json=body)
    assert_problem(anonymous, 401)
    assert anonymous.headers["www-authenticate"] == "Bearer"


async def test_agency_declares_for_a_person_without_an_employer(api: Api) -> None:
    agency = api.as_(role="agency", organisation="agency-cc-1")
    id_number = new_id_number(*NORMAL_BORN)
    api.departments.seed(id_number, "孙桂兰")
    response = await api.http.post(
        "/cases", json=declare_body(id_number, name="孙桂兰"), headers=agency
    )
    assert response.status_code == 201, response.text
    snapshot = await case_of(api.http, agency, response.json()["case_id"])
    assert snapshot["has_employer"] is False
    assert snapshot["organisation"] == "agency-cc-1"


# ---- GET /cases, GET /cases/{id}, GET /cases/{id}/audit -----------------------------------------


async def test_list_cases_filters_and_pages(api: Api) -> None:
    region = new_region()
    org = _org()
    employer = _employer(api, org)
    normal, normal_id = await _declare(api, employer, region=region)
    later, later_id = await _declare(api, employer, region=region, born=(1968, 5))
    early, early_id = await _declare(api, employer, region=region, illness=True)
    ids = (normal_id, later_id, early_id)

    async def listed(**params: Any) -> Json:
        response = await api.http.get("/cases", headers=employer, params=params)
        assert response.status_code == 200, response.text
        assert_no_id_number(response, *ids)
        body: Json = response.json()
        return body

    def case_ids(page: Json) -> list[str]:
        return [item["case_id"] for item in page["items"]]

    async def settled() -> bool:
        in_review = await listed(stage="pre-review")
        overdue = await listed(overdue="true")
        return in_review["total"] == 3 and case_ids(overdue) == [early]

    # The early case's contribution check (T-2) is past already: escalated, overdue at once.
    await eventually(settled, what="three cases in pre-review, the early one overdue")

    everything = await listed()
    assert everything["total"] == 3
    assert {item["id_masked"] for item in everything["items"]} == {mask(i) for i in ids}
    assert all(item["id_masked"][4:14] == "*" * 10 for item in everything["items"])
    dues = [item["next_due"] for item in everything["items"]]
    assert dues == sorted(dues)
    assert case_ids(await listed(retirement_month=NORMAL_T)) == [normal]
    assert case_ids(await listed(retirement_month=next_month())) == [early]
    assert sorted(case_ids(await listed(overdue="false"))) == sorted([normal, later])
    assert (await listed(stage="completed"))["total"] == 0
    assert (await listed(region=region))["total"] == 3
    assert (await listed(region="220202"))["total"] == 0

    first = await listed(limit=2)
    rest = await listed(limit=2, offset=2)
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert (len(first["items"]), len(rest["items"]), rest["offset"]) == (2, 1, 2)
    assert set(case_ids(first) + case_ids(rest)) == {normal, later, early}
    assert (await listed(offset=3))["items"] == []

    # Staff see their region; a retiree their own case; another employer nothing.
    clerk = _clerk(api, "hr", region)
    by_clerk = await api.http.get("/cases", headers=clerk)
    assert by_clerk.json()["total"] == 3
    outside = await api.http.get("/cases", headers=clerk, params={"region": "220202"})
    assert_problem(outside, 403, slug="wrong-region")
    retiree = api.as_(role="individual", id_number=later_id)
    mine = await api.http.get("/cases", headers=retiree)
    assert [i["case_id"] for i in mine.json()["items"]] == [later]
    other = await api.http.get("/cases", headers=_employer(api, _org()))
    assert other.json()["total"] == 0

    for params in (
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"retirement_month": "2027-13"},
        {"region": "22"},
        {"overdue": "maybe"},
    ):
        assert_problem(await api.http.get("/cases", headers=employer, params=params), 422)


async def test_get_case_shows_progress_with_a_masked_id(api: Api) -> None:
    org = _org()
    employer = _employer(api, org)
    case_id, id_number = await _declare(api, employer)
    response = await api.http.get(f"/cases/{case_id}", headers=employer)
    assert response.status_code == 200, response.text
    assert_no_id_number(response, id_number)
    snapshot = response.json()
    assert snapshot["case_id"] == case_id
    assert snapshot["id_masked"] == mask(id_number)
    assert snapshot["id_masked"] == f"{id_number[:4]}{'*' * 10}{id_number[-4:]}"
    assert snapshot["organisation"] == org
    assert len(snapshot["items"]) == 9
    assert snapshot["deadlines"]["retirement_month"] == NORMAL_T
    assert snapshot["deadlines"]["initiation_opens"] == NORMAL_OPENS
    assert snapshot["late_declaration"] is False

    missing = await api.http.get("/cases/retirement-000000000000000000000000", headers=employer)
    assert_problem(missing, 404, slug="unknown-case")


async def test_audit_trail_is_for_staff(api: Api) -> None:
    org = _org()
    employer = _employer(api, org)
    case_id, id_number = await _declare(api, employer)
    clerk = _clerk(api, "hr")
    entry = await audit_entry(api.http, clerk, case_id, lambda e: e["action"] == "declare")
    assert entry["actor_role"] == "employer"
    assert entry["actor_id"] == f"{org}-officer"
    assert entry["actor_organisation"] == org
    assert entry["result"] == "accepted"
    response = await api.http.get(f"/cases/{case_id}/audit", headers=clerk)
    assert_no_id_number(response, id_number)
    supervisor = api.as_(role="supervisor", department="hr", region="220100")
    assert (await api.http.get(f"/cases/{case_id}/audit", headers=supervisor)).status_code == 200
    admin = api.as_(role="admin", region="220000")
    assert (await api.http.get(f"/cases/{case_id}/audit", headers=admin)).status_code == 200
    denied = await api.http.get(f"/cases/{case_id}/audit", headers=employer)
    assert_problem(denied, 403, slug="forbidden")


# ---- the employer's actions --------------------------------------------------------------------


async def test_resubmission_after_a_return(api: Api) -> None:
    org = _org()
    employer = _employer(api, org)
    case_id, _ = await _declare(api, employer)
    nothing_returned = await api.http.post(
        f"/cases/{case_id}/resubmission",
        json={"declaration": normal_declaration()},
        headers=employer,
    )
    assert_problem(nothing_returned, 409, slug="wrong-stage", detail="nothing was returned")

    hr = _clerk(api, "hr")
    returned = await decide(
        api.http, hr, case_id, "pre-review", "return", reason="deemed years lack evidence"
    )
    assert returned["stage"] == "pre-review"
    correction = await open_task(api.http, employer, case_id, "correct")
    assert correction["detail"] == "deemed years lack evidence"

    breaking = await api.http.post(
        f"/cases/{case_id}/resubmission",
        json={
            "declaration": {
                "path": "flexible-early",
                "contribution_years": 30,
                "requested_month": "2026-01",
                "flexible": {"notice_month": "2025-09"},
            }
        },
        headers=employer,
    )
    assert_problem(breaking, 422, slug="rule-refusal", detail="flexible.early.too-early")

    fixed = await api.http.post(
        f"/cases/{case_id}/resubmission",
        json={"declaration": normal_declaration(deemed_years=2, archive_refs=["A-1"])},
        headers={**employer, "Idempotency-Key": "resubmit-1"},
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["stage"] == "pre-review"
    task = await inbox_task(api.http, hr, case_id, "pre-review")
    assert task["status"] == "open"
    replay = await api.http.post(
        f"/cases/{case_id}/resubmission",
        json={"declaration": normal_declaration(deemed_years=2, archive_refs=["A-1"])},
        headers={**employer, "Idempotency-Key": "resubmit-1"},
    )
    assert replay.json() == fixed.json()


async def test_settlement_then_initiation_of_an_early_retirement(api: Api) -> None:
    org = _org()
    employer = _employer(api, org)
    case_id, id_number = await _declare(api, employer, illness=True, problems=(_problem(),))
    before = await api.http.post(f"/cases/{case_id}/initiation", json={}, headers=employer)
    assert_problem(before, 409, slug="not-yet", detail="initiation follows the contribution check")

    await decide(api.http, _clerk(api, "hr"), case_id, "pre-review")
    task = await open_task(api.http, employer, case_id, "settle-contributions")
    assert task["problem"]["kind"] == "arrears"

    unknown = await api.http.post(
        f"/cases/{case_id}/settlements", json={"task_id": "no-such-task"}, headers=employer
    )
    assert_problem(unknown, 409, slug="stale-decision")
    done = await api.http.post(
        f"/cases/{case_id}/settlements", json={"task_id": "pre-review-1"}, headers=employer
    )
    assert_problem(done, 409, slug="stale-decision")
    invalid = await api.http.post(
        f"/cases/{case_id}/settlements", json={"task_id": "bad id"}, headers=employer
    )
    assert_problem(invalid, 422, slug="validation")

    settled = await api.http.post(
        f"/cases/{case_id}/settlements",
        json={"task_id": task["id"], "note": "paid on 2026-11-20, receipt 88"},
        headers=employer,
    )
    assert settled.status_code == 200, settled.text
    assert_no_id_number(settled, id_number)

    await decide(api.http, _clerk(api, "social-insurance"), case_id, "confirm-contributions")
    await wait_stage(api.http, employer, case_id, "awaiting-initiation")
    initiated = await api.http.post(f"/cases/{case_id}/initiation", json={}, headers=employer)
    assert initiated.status_code == 200, initiated.text
    assert initiated.json()["stage"] == "joint-handling"
    twice = await api.http.post(f"/cases/{case_id}/initiation", headers=employer)
    assert_problem(twice, 409, slug="wrong-stage")

    snapshot = await case_of(api.http, employer, case_id)
    assert snapshot["late_declaration"] is True  # T-6 had passed when it was declared
    assert snapshot["path"] == "illness"


async def test_initiation_is_refused_before_its_window_with_the_opening_date(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    await _to_initiation(api, employer, case_id, REGION)
    response = await api.http.post(f"/cases/{case_id}/initiation", headers=employer)
    assert_problem(response, 409, slug="not-yet", detail=f"opens on {NORMAL_OPENS}")
    task = await open_task(api.http, employer, case_id, "initiate")
    assert task["due"] == "2027-07-31"


async def test_withdrawal(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    no_reason = await api.http.post(f"/cases/{case_id}/withdrawal", json={}, headers=employer)
    assert_problem(no_reason, 422, slug="validation", detail="reason")
    empty = await api.http.post(
        f"/cases/{case_id}/withdrawal", json={"reason": ""}, headers=employer
    )
    assert_problem(empty, 422)
    withdrawn = await api.http.post(
        f"/cases/{case_id}/withdrawal", json={"reason": "staying on"}, headers=employer
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["stage"] == "withdrawn"
    again = await api.http.post(
        f"/cases/{case_id}/withdrawal", json={"reason": "again"}, headers=employer
    )
    assert_problem(again, 409)
    snapshot = await wait_stage(api.http, employer, case_id, "withdrawn")
    assert snapshot["closed_reason"] == "withdrawn: staying on"


async def test_withdrawal_is_refused_once_joint_handling_began(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer, illness=True)
    await _to_initiation(api, employer, case_id, REGION)
    initiated = await api.http.post(f"/cases/{case_id}/initiation", headers=employer)
    assert initiated.status_code == 200, initiated.text
    late = await api.http.post(
        f"/cases/{case_id}/withdrawal", json={"reason": "changed my mind"}, headers=employer
    )
    assert_problem(late, 409, slug="wrong-stage", detail="ask the HR bureau to cancel")


async def test_cancellation_by_hr(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    by_employer = await api.http.post(
        f"/cases/{case_id}/cancellation", json={"reason": "x"}, headers=employer
    )
    assert_problem(by_employer, 403, slug="forbidden")
    by_social_insurance = await api.http.post(
        f"/cases/{case_id}/cancellation",
        json={"reason": "duplicate"},
        headers=_clerk(api, "social-insurance"),
    )
    assert_problem(by_social_insurance, 403, slug="wrong-department")
    hr = _clerk(api, "hr", sub="hr-canceller")
    no_reason = await api.http.post(f"/cases/{case_id}/cancellation", json={}, headers=hr)
    assert_problem(no_reason, 422)
    cancelled = await api.http.post(
        f"/cases/{case_id}/cancellation", json={"reason": "person deceased"}, headers=hr
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["stage"] == "cancelled"
    assert cancelled.json()["open_tasks"] == []
    entry = await audit_entry(
        api.http, hr, case_id, lambda e: e["action"] == "cancel" and e["result"] == "accepted"
    )
    assert (entry["actor_id"], entry["actor_role"], entry["actor_department"]) == (
        "hr-canceller",
        "clerk",
        "hr",
    )
    refused = [e for e in await audit_of(api.http, hr, case_id) if e["result"] == "refused 403"]
    assert {e["actor_role"] for e in refused if e["action"] == "cancel"} == {"employer", "clerk"}


async def test_retirement_correction_by_the_employer_and_by_hr_supervisors(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    flexible = {
        "path": "flexible-early",
        "contribution_years": 30,
        "requested_month": "2027-05",
        "flexible": {"notice_month": "2026-11"},
    }
    moved = await api.http.post(
        f"/cases/{case_id}/retirement-correction",
        json={"reason": "flexible early retirement", "declaration": flexible},
        headers=employer,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["retirement_month"] == "2027-05"

    too_early = {**flexible, "requested_month": "2026-12"}
    refused = await api.http.post(
        f"/cases/{case_id}/retirement-correction",
        json={"reason": "earlier", "declaration": too_early},
        headers=employer,
    )
    assert_problem(refused, 422, slug="rule-refusal", detail="flexible.early.too-early")

    data_fix = await api.http.post(
        f"/cases/{case_id}/retirement-correction",
        json={"reason": "the archive says otherwise", "category": "female-cadre"},
        headers=employer,
    )
    assert_problem(data_fix, 403, slug="forbidden", detail="HR clerks")

    supervisor = api.as_(role="supervisor", department="hr", region="220100")
    normal_again = await api.http.post(
        f"/cases/{case_id}/retirement-correction",
        json={"reason": "back to the statutory month", "declaration": normal_declaration()},
        headers=supervisor,
    )
    assert normal_again.status_code == 200, normal_again.text
    assert normal_again.json()["retirement_month"] == NORMAL_T


async def test_hr_clerk_corrects_the_category(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer, illness=True)
    response = await api.http.post(
        f"/cases/{case_id}/retirement-correction",
        json={"reason": "a cadre, per the archive", "category": "female-cadre"},
        headers=_clerk(api, "hr"),
    )
    assert response.status_code == 200, response.text


async def test_correction_without_a_change_is_a_422(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    async with _loose(api) as http:
        response = await http.post(
            f"/cases/{case_id}/retirement-correction",
            json={"reason": "nothing really"},
            headers=employer,
        )
    assert_problem(response, 422)


# ---- decisions, claims, assignment -------------------------------------------------------------


def _server_timing(response: httpx.Response) -> dict[str, float]:
    """``temporal;dur=12.3, app;dur=4.5`` -> {"temporal": 12.3, "app": 4.5}."""
    parts = (item.strip().split(";dur=") for item in response.headers["server-timing"].split(","))
    return {name: float(value) for name, value in parts}


async def test_decisions(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    hr = _clerk(api, "hr")
    task = await inbox_task(api.http, hr, case_id, "pre-review")
    url = f"/cases/{case_id}/tasks/{task['task_id']}/decision"

    for body, slug, detail in (
        ({"outcome": "reject"}, "validation", "a decision to reject needs a reason"),
        ({"outcome": "return", "reason": "  "}, "validation", "needs a reason"),
        (
            {"outcome": "return", "reason": "x", "deemed_years": 3},
            "invalid-request",
            "by approving the pre-review",
        ),
        ({"outcome": "maybe"}, "validation", "outcome"),
        ({"outcome": "approve", "deemed_years": 81}, "validation", "deemed_years"),
    ):
        assert_problem(
            await api.http.post(url, json=body, headers=hr), 422, slug=slug, detail=detail
        )
    unknown = await api.http.post(
        f"/cases/{case_id}/tasks/pre-review-999/decision", json={"outcome": "approve"}, headers=hr
    )
    assert_problem(unknown, 409, slug="stale-decision")

    keyed = {**hr, "Idempotency-Key": "approve-once"}
    approved = await api.http.post(url, json={"outcome": "approve"}, headers=keyed)
    assert approved.status_code == 200, approved.text
    assert task["task_id"] not in [t["id"] for t in approved.json()["open_tasks"]]
    # The time spent waiting for the workflow and the API's own, apart (api/timing.py).
    spent = _server_timing(approved)
    assert spent["temporal"] > 0 and spent["app"] >= 0
    replayed = await api.http.post(url, json={"outcome": "approve"}, headers=keyed)
    assert replayed.status_code == 200
    assert replayed.json() == approved.json()
    assert _server_timing(replayed)["temporal"] == 0  # answered from the idempotency record
    stale = await api.http.post(url, json={"outcome": "approve"}, headers=hr)
    assert_problem(stale, 409, slug="stale-decision", detail="done already")

    audit = await audit_of(api.http, hr, case_id)
    refusals = [e for e in audit if e["action"].startswith("decide")]
    assert {e["result"] for e in refusals} >= {"refused 422", "refused 409"}
    # Each refused attempt names the task it targeted.
    refused = [e for e in refusals if e["result"].startswith("refused")]
    assert all(
        e["detail"].startswith((f"{task['task_id']}: ", "pre-review-999: ")) for e in refused
    ), refused
    assert any(e["detail"].startswith("pre-review-999: ") for e in refused)


async def test_rejection_closes_the_case(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    hr = _clerk(api, "hr")
    await decide(api.http, hr, case_id, "pre-review", "reject", reason="not insured in Jilin")
    snapshot = await wait_stage(api.http, employer, case_id, "rejected")
    assert snapshot["closed_reason"] == "pre-review rejected: not insured in Jilin"


async def test_a_long_reason_does_not_wedge_the_case(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    hr = _clerk(api, "hr")
    task = await inbox_task(api.http, hr, case_id, "pre-review")
    reason = "不符合条件。" * 333 + "xx"  # 2000 characters: the most the API accepts
    assert len(reason) == 2000
    response = await asyncio.wait_for(
        api.http.post(
            f"/cases/{case_id}/tasks/{task['task_id']}/decision",
            json={"outcome": "reject", "reason": reason},
            headers=hr,
        ),
        timeout=4,
    )
    assert response.status_code == 200, response.text


async def test_claim_release_and_assignment(api: Api) -> None:
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    alice = _clerk(api, "hr", sub="hr-alice")
    bob = _clerk(api, "hr", sub="hr-bob")
    task = await inbox_task(api.http, alice, case_id, "pre-review")
    base = f"/cases/{case_id}/tasks/{task['task_id']}"

    claimed = await api.http.post(f"{base}/claim", headers=alice)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json() == {
        "case_id": case_id,
        "task_id": task["task_id"],
        "claimed_by": "hr-alice",
    }
    assert (await api.http.post(f"{base}/claim", headers=alice)).status_code == 200
    taken = await api.http.post(f"{base}/claim", headers=bob)
    assert_problem(taken, 409, slug="task-claimed", detail="hr-alice")
    not_bobs = await api.http.post(f"{base}/release", headers=bob)
    assert_problem(not_bobs, 409, slug="task-claimed")
    released = await api.http.post(f"{base}/release", headers=alice)
    assert released.json()["claimed_by"] is None
    assert (await api.http.post(f"{base}/claim", headers=bob)).json()["claimed_by"] == "hr-bob"

    by_clerk = await api.http.post(
        f"{base}/assignment", json={"clerk_id": "hr-carol"}, headers=alice
    )
    assert_problem(by_clerk, 403, slug="forbidden")
    supervisor = api.as_(role="supervisor", department="hr", region="220100")
    invalid = await api.http.post(
        f"{base}/assignment", json={"clerk_id": "no spaces"}, headers=supervisor
    )
    assert_problem(invalid, 422)
    assigned = await api.http.post(
        f"{base}/assignment", json={"clerk_id": "hr-carol"}, headers=supervisor
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["claimed_by"] == "hr-carol"
    inbox = await inbox_task(api.http, alice, case_id, "pre-review")
    assert inbox["claimed_by"] == "hr-carol"

    unknown = await api.http.post(f"/cases/{case_id}/tasks/pre-review-999/claim", headers=alice)
    assert_problem(unknown, 404, slug="unknown-task")
    await decide(api.http, alice, case_id, "pre-review")

    async def closed() -> httpx.Response | None:
        response = await api.http.post(f"{base}/claim", headers=alice)
        return response if response.status_code == 409 else None

    assert_problem(await eventually(closed), 409, slug="task-closed")


# ---- GET /inbox, GET /escalations ----------------------------------------------------------------


async def test_inbox_filters_sorts_by_due_date_and_pages(api: Api) -> None:
    region = new_region()
    employer = _employer(api, _org())
    hr = _clerk(api, "hr", region, sub="hr-inbox")
    first, _ = await _declare(api, employer, region=region)
    # The early case goes on to formal approval: opened later, due sooner (5 working days).
    early, early_id = await _declare(api, employer, region=region, illness=True)
    await _to_initiation(api, employer, early, region)
    assert (await api.http.post(f"/cases/{early}/initiation", headers=employer)).status_code == 200
    await inbox_task(api.http, hr, early, "formal-approval")
    last, _ = await _declare(api, employer, region=region, born=(1968, 5))
    await inbox_task(api.http, hr, last, "pre-review")

    async def inbox(**params: Any) -> Json:
        response = await api.http.get("/inbox", headers=hr, params=params)
        assert response.status_code == 200, response.text
        assert_no_id_number(response, early_id)
        body: Json = response.json()
        return body

    def pairs(page: Json) -> list[tuple[str, str]]:
        return [(t["case_id"], t["kind"]) for t in page["items"]]

    everything = await inbox()
    assert everything["total"] == 3
    assert pairs(everything) == [
        (early, "formal-approval"),
        (first, "pre-review"),
        (last, "pre-review"),
    ]
    dues = [date.fromisoformat(t["due"]) for t in everything["items"]]
    assert dues[0] < dues[1] == dues[2]
    assert all(t["status"] == "open" and t["department"] == "hr" for t in everything["items"])
    assert everything["items"][0]["id_masked"] == mask(early_id)

    page = await inbox(limit=1, offset=1)
    assert (pairs(page), page["total"], page["limit"], page["offset"]) == (
        [(first, "pre-review")],
        3,
        1,
        1,
    )
    assert pairs(await inbox(kind="formal-approval")) == [(early, "formal-approval")]
    assert pairs(await inbox(stage="pre-review")) == [(first, "pre-review"), (last, "pre-review")]
    assert pairs(await inbox(status="done")) == [(early, "pre-review")]
    assert (await inbox(due_before=str(dues[0] - timedelta(days=1))))["total"] == 0
    assert pairs(await inbox(due_before=str(dues[0]))) == [(early, "formal-approval")]
    assert (await inbox(due_before=str(dues[1])))["total"] == 3
    assert (await inbox(escalated="false"))["total"] == 3
    assert (await inbox(escalated="true"))["total"] == 0

    first_task = everything["items"][1]["task_id"]
    claim = await api.http.post(f"/cases/{first}/tasks/{first_task}/claim", headers=hr)
    assert claim.status_code == 200
    assert pairs(await inbox(mine="true")) == [(first, "pre-review")]
    other = await api.http.get("/inbox", headers=_clerk(api, "hr", region), params={"mine": True})
    assert other.json()["total"] == 0

    medical = await api.http.get("/inbox", headers=_clerk(api, "medical-security", region))
    assert medical.json()["total"] == 0
    assert_problem(await api.http.get("/inbox", headers=employer), 403, slug="forbidden")
    for params in ({"kind": "nap"}, {"status": "lost"}, {"due_before": "soon"}, {"limit": 0}):
        assert_problem(await api.http.get("/inbox", headers=hr, params=params), 422)


@pytest.fixture
async def skipping_api(
    database_url: str, signing_key: tuple[Path, Path], departments: DepartmentSimulator
) -> AsyncIterator[Api]:
    """The app over a time-skipping server of its own, whose clock a test may move."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=temporal_test_server()
    )
    try:
        async with serve(env, database_url, signing_key, departments) as running:
            yield running
    finally:
        await env.shutdown()


async def test_missed_clerk_deadline_is_escalated(skipping_api: Api) -> None:
    api = skipping_api
    region = new_region()
    employer = _employer(api, _org())
    hr = _clerk(api, "hr", region)
    case_id, _ = await _declare(api, employer, region=region)
    task = await inbox_task(api.http, hr, case_id, "pre-review")
    assert task["escalated"] is False
    due = date.fromisoformat(task["due"])
    # Nobody decides: move the server's clock past the end of the due day.
    await api.env.sleep(due - date.today() + timedelta(days=3))

    async def escalated() -> Json | None:
        response = await api.http.get("/inbox", headers=hr, params={"escalated": True})
        items = response.json()["items"]
        return items[0] if items else None

    flagged = await eventually(escalated, what="an escalated task")
    assert (flagged["case_id"], flagged["task_id"]) == (case_id, task["task_id"])
    assert (await api.http.get("/inbox", headers=hr, params={"escalated": False})).json()[
        "total"
    ] == 0

    supervisor = api.as_(role="supervisor", department="hr", region=region)
    response = await api.http.get("/escalations", headers=supervisor)
    assert response.status_code == 200, response.text
    queue = response.json()
    assert queue["total"] == 1
    item = queue["items"][0]
    assert (item["case_id"], item["department"], item["task_id"]) == (
        case_id,
        "hr",
        task["task_id"],
    )
    assert str(due) in item["reason"]
    assert item["region_code"] == region

    city = api.as_(role="supervisor", department="hr", region="220100")
    assert case_id in [
        e["case_id"] for e in (await api.http.get("/escalations", headers=city)).json()["items"]
    ]
    elsewhere = api.as_(role="supervisor", department="hr", region="220202")
    assert (await api.http.get("/escalations", headers=elsewhere)).json()["total"] == 0
    other_department = await api.http.get(
        "/escalations", headers=supervisor, params={"department": "social-insurance"}
    )
    assert_problem(other_department, 403, slug="forbidden")
    social = api.as_(role="supervisor", department="social-insurance", region=region)
    assert (await api.http.get("/escalations", headers=social)).json()["total"] == 0
    admin = api.as_(role="admin", region="220000")
    by_admin = await api.http.get(
        "/escalations", headers=admin, params={"department": "hr", "limit": 200}
    )
    assert case_id in [e["case_id"] for e in by_admin.json()["items"]]
    assert_problem(await api.http.get("/escalations", headers=hr), 403, slug="forbidden")
    assert_problem(await api.http.get("/escalations", headers=employer), 403)
    listed = await api.http.get("/cases", headers=hr, params={"overdue": True})
    assert [c["case_id"] for c in listed.json()["items"]] == [case_id]


# ---- rules, health, documentation, errors ------------------------------------------------------


async def test_retirement_date_for_several_birth_months(api: Api) -> None:
    response = await api.http.get(
        "/rules/retirement-date",
        params=[("category", "male"), ("birth_month", "1967-01"), ("birth_month", "1966-01")],
    )
    assert response.status_code == 200, response.text
    answers = response.json()
    assert [(a["birth_month"], a["retirement_month"]) for a in answers] == [
        ("1967-01", "2027-08"),
        ("1966-01", "2026-05"),
    ]
    assert answers[0] == {
        "birth_month": "1967-01",
        "category": "male",
        "original_retirement_month": "2027-01",
        "retirement_month": "2027-08",
        "retirement_age_years": 60,
        "retirement_age_months": 7,
        "delay_months": 7,
        "min_contribution_years": 15,
    }
    for params in (
        {"category": "male"},
        {"category": "male", "birth_month": "1967-13"},
        {"category": "male", "birth_month": "1899-12"},
        {"category": "nobody", "birth_month": "1967-01"},
    ):
        assert_problem(await api.http.get("/rules/retirement-date", params=params), 422)


async def test_timeline_from_either_month(api: Api) -> None:
    by_t = await api.http.get("/rules/timeline", params={"retirement_month": NORMAL_T})
    assert by_t.status_code == 200, by_t.text
    timeline = by_t.json()
    assert {k: timeline[k] for k in ("declaration_due", "contribution_check_due")} == {
        "declaration_due": "2027-02-28",
        "contribution_check_due": "2027-06-30",
    }
    assert (timeline["initiation_opens"], timeline["initiation_due"]) == (
        NORMAL_OPENS,
        "2027-07-31",
    )
    assert timeline["first_pension_month"] == "2027-09"
    assert timeline["reminders"]
    by_birth = await api.http.get(
        "/rules/timeline", params={"birth_month": "1967-01", "category": "male"}
    )
    assert by_birth.json() == timeline
    for params in (
        {},
        {"retirement_month": NORMAL_T, "birth_month": "1967-01", "category": "male"},
        {"birth_month": "1967-01"},
        {"retirement_month": NORMAL_T, "category": "male"},
        {"retirement_month": "2027-8"},
    ):
        assert_problem(await api.http.get("/rules/timeline", params=params), 422)


async def test_pension_estimate_worked_example(api: Api) -> None:
    body = {
        "birth_month": "1966-01",
        "category": "male",
        "contribution_index": 1.2,
        "actual_years": 30,
        "deemed_years": 5,
        "account_balance": 150000,
    }
    response = await api.http.post("/rules/pension-estimate", json=body)
    assert response.status_code == 200, response.text
    estimate = response.json()
    assert (
        estimate["basic"],
        estimate["personal_account"],
        estimate["transitional"],
        estimate["total"],
    ) == (2819, 1079.14, 527.19, 4425.33)
    assert estimate["retirement_month"] == "2026-05"
    assert (estimate["age_years"], estimate["age_months"]) == (60, 4)
    assert estimate["contribution_years"] == 35

    for change in (
        {"contribution_index": 0},
        {"account_balance": -1},
        {"birth_month": "1966-1"},
        {"unknown": 1},
    ):
        assert_problem(await api.http.post("/rules/pension-estimate", json={**body, **change}), 422)
    wrong_area = await api.http.post(
        "/rules/pension-estimate", json={**body, "wage_area": "atlantis"}
    )
    assert_problem(wrong_area, 422, slug="pension-input", detail="atlantis")
    too_young = await api.http.post(
        "/rules/pension-estimate", json={**body, "retirement_month": "1990-01"}
    )
    assert_problem(too_young, 422, slug="pension-input")


async def test_health(api: Api) -> None:
    response = await api.http.get("/health")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_health_is_503_when_the_database_is_down(api: Api) -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    app = create_app(api.settings, client=api.env.client, sessions=make_sessionmaker(engine))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                response = await http.get("/health")
    finally:
        engine.dispose()
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"].startswith("unavailable")
    assert body["temporal"] == "ok"


async def test_openapi_and_docs(api: Api) -> None:
    schema = await api.http.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/cases",
        "/cases/{case_id}",
        "/cases/{case_id}/audit",
        "/cases/{case_id}/resubmission",
        "/cases/{case_id}/settlements",
        "/cases/{case_id}/initiation",
        "/cases/{case_id}/withdrawal",
        "/cases/{case_id}/cancellation",
        "/cases/{case_id}/retirement-correction",
        "/cases/{case_id}/tasks/{task_id}/decision",
        "/cases/{case_id}/tasks/{task_id}/claim",
        "/cases/{case_id}/tasks/{task_id}/release",
        "/cases/{case_id}/tasks/{task_id}/assignment",
        "/inbox",
        "/escalations",
        "/rules/retirement-date",
        "/rules/timeline",
        "/rules/pension-estimate",
        "/health",
        "/codec/encode",
        "/codec/decode",
    ):
        assert path in paths, path
    docs = await api.http.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger" in docs.text.lower()


def _wire(text: str, encoding: str = "json/plain") -> Json:
    return {
        "metadata": {"encoding": base64.b64encode(encoding.encode()).decode()},
        "data": base64.b64encode(text.encode()).decode(),
    }


async def test_codec_round_trip_for_administrators(api: Api) -> None:
    """The Temporal UI's remote codec: admins encrypt and decrypt payloads; nobody else."""
    admin = api.as_(role="admin", region="220000")
    plain = {"payloads": [_wire('"王建国"'), _wire('{"stage": "pre-review"}')]}
    encoded = await api.http.post("/codec/encode", json=plain, headers=admin)
    assert encoded.status_code == 200, encoded.text
    sealed = encoded.json()["payloads"]
    assert len(sealed) == 2
    for payload in sealed:
        encoding = base64.b64decode(payload["metadata"]["encoding"])
        assert encoding == b"binary/encrypted"
        assert "王建国" not in base64.b64decode(payload["data"]).decode("utf-8", "replace")
    decoded = await api.http.post("/codec/decode", json={"payloads": sealed}, headers=admin)
    assert decoded.status_code == 200, decoded.text
    assert decoded.json() == plain
    untouched = await api.http.post("/codec/decode", json=plain, headers=admin)
    assert untouched.json() == plain  # written before encryption: read as it is

    data = bytearray(base64.b64decode(sealed[0]["data"]))
    data[-1] ^= 1
    tampered = {**sealed[0], "data": base64.b64encode(bytes(data)).decode()}
    altered = await api.http.post("/codec/decode", json={"payloads": [tampered]}, headers=admin)
    assert_problem(altered, 422, slug="undecodable", detail="altered")
    unknown_key = {
        **sealed[0],
        "metadata": {**sealed[0]["metadata"], "encryption-key-id": base64.b64encode(b"x").decode()},
    }
    no_key = await api.http.post("/codec/decode", json={"payloads": [unknown_key]}, headers=admin)
    assert_problem(no_key, 422, slug="undecodable", detail="no key")
    garbage = {"payloads": [{"metadata": {}, "data": "not base64!"}]}
    assert_problem(await api.http.post("/codec/decode", json=garbage, headers=admin), 422)

    for path in ("/codec/encode", "/codec/decode"):
        anonymous = await api.http.post(path, json=plain)
        assert_problem(anonymous, 401, slug="missing-token")
        assert anonymous.headers["www-authenticate"] == "Bearer"
        basic = await api.http.post(path, json=plain, headers={"Authorization": "Basic eDp5"})
        assert_problem(basic, 401)
        clerk = await api.http.post(path, json=plain, headers=_clerk(api, "hr"))
        assert_problem(clerk, 403, slug="forbidden")
        forged = await api.http.post(path, json=plain, headers={"Authorization": "Bearer x.y.z"})
        assert_problem(forged, 401)


async def test_the_documented_id_number_example_is_valid(api: Api) -> None:
    schema = (await api.http.get("/openapi.json")).json()
    example = schema["components"]["schemas"]["NewPerson"]["properties"]["id_number"]["examples"][0]
    id_number = str(example)
    api.departments.seed(id_number, "王建国")
    response = await api.http.post(
        "/cases", json=declare_body(id_number), headers=_employer(api, _org())
    )
    assert response.status_code == 201, response.text


async def test_errors_are_problem_details(api: Api) -> None:
    employer = _employer(api, _org())
    assert_problem(await api.http.get("/nowhere", headers=employer), 404)
    assert_problem(await api.http.delete("/cases", headers=employer), 405)
    broken = await api.http.post(
        "/cases",
        content=b"{not json",
        headers={**employer, "Content-Type": "application/json"},
    )
    assert_problem(broken, 422, slug="validation")
    key = await api.http.post(
        "/cases",
        json=declare_body(new_id_number(*NORMAL_BORN)),
        headers={**employer, "Idempotency-Key": "spaces are not allowed"},
    )
    assert_problem(key, 422, slug="validation")
    huge = await api.http.post(
        "/rules/pension-estimate",
        content=b"x" * (api.settings.max_body_bytes + 1),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(huge, 413, slug="too-large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(api.settings.max_body_bytes // 4096 + 2):
            yield b"x" * 4096

    streamed = await api.http.post(
        "/rules/pension-estimate",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in streamed.request.headers
    assert_problem(streamed, 413, slug="too-large")


async def test_concurrent_reads_do_not_lock_sqlite(
    api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clerks polling their inbox while others open cases: never a 500.

    The SQLite busy timeout (15 s) is lowered for this app's engine so that a lock-up shows in
    well under a second instead of stalling the whole API for 15 s; it changes how long the
    deadlock lasts, not whether it happens.
    """
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock taken by reads is SQLite's (BEGIN IMMEDIATE)")
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    hr = _clerk(api, "hr")
    await inbox_task(api.http, hr, case_id, "pre-review")
    monkeypatch.setattr("db.session.SQLITE_BUSY_TIMEOUT_MS", 300)
    engine = make_engine(database_url)
    app = create_app(api.settings, client=api.env.client, sessions=make_sessionmaker(engine))
    statuses: set[int] = set()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                for _ in range(200):
                    answers = await asyncio.gather(
                        *(http.get("/inbox", headers=hr) for _ in range(4)),
                        *(http.get(f"/cases/{case_id}", headers=employer) for _ in range(4)),
                    )
                    statuses |= {a.status_code for a in answers}
                    if max(statuses) >= 500:
                        break
    finally:
        engine.dispose()
    assert statuses == {200}


async def test_nul_bytes_in_a_path_or_query_are_not_a_server_error(api: Api) -> None:
    employer = _employer(api, _org())
    clerk = _clerk(api, "hr")
    async with _loose(api) as http:
        for url, headers in (
            ("/cases/%00", employer),
            ("/cases?stage=%00", employer),
            ("/inbox?stage=%00", clerk),
        ):
            response = await http.get(url, headers=headers)
            assert response.status_code == 422, f"{url}: {response.status_code}"


async def test_control_characters_in_text_are_refused(api: Api) -> None:
    """PostgreSQL refuses NUL in text, so a name or reason with one would stall the read model:
    such text is refused with 422 before anything is started."""
    employer = _employer(api, _org())
    id_number = new_id_number(*NORMAL_BORN)
    api.departments.seed(id_number, "王建国")
    for name in ("王\x00建国", "王\x07建国"):
        body = declare_body(id_number, name=name)
        response = await api.http.post("/cases", json=body, headers=employer)
        assert response.status_code == 422, response.text
        assert "name" in response.json()["detail"]
    listed = await api.http.get("/cases", headers=employer)
    case_id = case_id_for(id_number, api.settings.case_secret)
    assert case_id not in [c["case_id"] for c in listed.json()["items"]]


async def test_temporal_not_answering_in_time_is_a_503_to_retry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An overloaded or unreachable Temporal is not an internal error: 503 with Retry-After, and
    the request is safe to repeat with its Idempotency-Key."""
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    hr = _clerk(api, "hr")
    task = await inbox_task(api.http, hr, case_id, "pre-review")

    async def deadline(*_args: Any, **_kwargs: Any) -> Any:
        raise RPCError("context deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")

    async def update_timeout(*_args: Any, **_kwargs: Any) -> Any:
        raise WorkflowUpdateRPCTimeoutOrCancelledError()

    async with _loose(api) as http:
        with monkeypatch.context() as patch:
            patch.setattr(Client, "start_workflow", deadline)
            # A declaration starts the person's case.
            id_number = new_id_number(*NORMAL_BORN, female=False)
            api.departments.seed(id_number, "王建国")
            body = declare_body(id_number, name="王建国", declaration=normal_declaration())
            declared = await http.post("/cases", json=body, headers=employer)
            assert_problem(declared, 503, slug="temporal-unavailable")
            assert declared.headers["retry-after"] == "5"
            # A case's progress comes from the read model: still there while Temporal is not.
            page = await http.get(f"/cases/{case_id}", headers=employer)
            assert page.status_code == 200, page.text
            assert page.json()["case_id"] == case_id
        url = f"/cases/{case_id}/tasks/{task['task_id']}/decision"
        keyed = {**hr, "Idempotency-Key": "decide-once"}
        with monkeypatch.context() as patch:
            patch.setattr(WorkflowHandle, "execute_update", update_timeout)
            refused = await http.post(url, json={"outcome": "approve"}, headers=keyed)
        assert_problem(refused, 503, slug="temporal-unavailable")
        retried = await http.post(url, json={"outcome": "approve"}, headers=keyed)
        assert retried.status_code == 200, retried.text
    snapshot = await case_of(api.http, employer, case_id)
    assert [d["task_id"] for d in snapshot["decisions"]] == [task["task_id"]]  # applied once


async def test_the_api_never_queries_a_case(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A query to a running case can make a worker apply events outside a workflow task and
    leave the case unreplayable (docs/reliability.md): declaring, deciding and reading a case
    work from the read model alone, and each answer already shows the caller's own change."""

    async def no_query(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the API queried a case")

    monkeypatch.setattr(WorkflowHandle, "query", no_query)
    employer = _employer(api, _org())
    case_id, _ = await _declare(api, employer)
    hr = _clerk(api, "hr")
    task = await inbox_task(api.http, hr, case_id, "pre-review")
    url = f"/cases/{case_id}/tasks/{task['task_id']}/decision"
    decided = await api.http.post(url, json={"outcome": "approve"}, headers=hr)
    assert decided.status_code == 200, decided.text
    snapshot = await case_of(api.http, employer, case_id)  # read at once after the answer
    assert snapshot["version"] >= decided.json()["version"]
    assert [d["task_id"] for d in snapshot["decisions"]] == [task["task_id"]]


async def test_a_case_not_projected_yet_is_waited_for_then_a_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case Temporal knows but the read model does not yet (no worker has run its first
    workflow task) is not asked for its state: the API waits for its projection, then answers
    503 with Retry-After; an id Temporal does not know is a 404 at once."""
    monkeypatch.setattr("api.workflow_gateway.PROJECTION_WAIT", 0.3)
    person = Person(
        id_number=new_id_number(*NORMAL_BORN, female=False),
        name="周立",
        category="male",
        region_code=REGION,
        employer_id=_org(),
    )
    started = await start_case(
        api.env.client,
        person=person,
        policy=load_policy(),
        secret=api.settings.case_secret,
        task_queue=f"no-worker-{uuid.uuid4().hex[:6]}",  # nobody runs it
        search_attributes=False,
    )
    try:
        admin = api.as_(role="admin", region="220000")
        waiting = await api.http.get(f"/cases/{started.case_id}", headers=admin)
        assert_problem(waiting, 503, slug="not-projected-yet")
        assert waiting.headers["retry-after"] == "2"
        unknown = await api.http.get("/cases/retirement-000000000000000000000000", headers=admin)
        assert_problem(unknown, 404, slug="unknown-case")
    finally:
        await started.handle.terminate("test over")


async def test_a_declaration_retried_after_a_503_is_answered_as_the_case_it_started(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case was started but not readable in time (503 not-projected-yet): the retry with the
    same Idempotency-Key gets the case it started, created, and nothing is declared twice."""
    real = snapshot_of
    calls: list[str] = []

    async def slow_once(ctx: Any, case_id: str) -> Any:
        calls.append(case_id)
        if len(calls) == 1:
            raise NOT_PROJECTED
        return await real(ctx, case_id)

    monkeypatch.setattr(api_routes_cases, "snapshot_of", slow_once)
    org = _org()
    employer = {**_employer(api, org), "Idempotency-Key": f"declare-{uuid.uuid4().hex}"}
    id_number = new_id_number(*NORMAL_BORN)
    api.departments.seed(id_number, "王建国")
    first = await api.http.post("/cases", json=declare_body(id_number), headers=employer)
    assert_problem(first, 503, slug="not-projected-yet")
    retried = await api.http.post("/cases", json=declare_body(id_number), headers=employer)
    assert retried.status_code == 201, retried.text
    assert retried.json()["created"] is True
    snapshot = await case_of(api.http, employer, retried.json()["case_id"])
    assert [e["actor"] for e in snapshot["events"]].count(f"employer:{org}-officer@{org}") == 1
