"""``api/routes/cases.py``: declaring (``POST /cases``), reading (``GET /cases``,
``GET /cases/{id}``, its audit trail) and the parties' actions on a case — resubmission,
settlement, initiation, withdrawal, cancellation, retirement correction.

The app runs in-process over the time-skipping Temporal test server (``api`` fixture), whose clock
is the real one unless a test moves it: "today" is today, so dates are computed, not assumed. The
database is shared by every test of a session, so each test uses its own people, organisation
and — where it counts lists — its own region.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from api.routes import cases as api_routes_cases
from api.workflow_gateway import NOT_PROJECTED, snapshot_of
from contracts.people import Person
from contracts.workflow import ContributionProblem, ContributionProblemKind
from domain.idcard import mask
from policies import load_policy
from service.case_start import start_case
from tests.api.conftest import REGION, Api
from tests.api.support import (
    ILLNESS_BORN,
    NORMAL_BORN,
    NORMAL_OPENS,
    NORMAL_T,
    Json,
    assert_no_id_number,
    assert_problem,
    audit_entry,
    audit_of,
    case_of,
    clerk_headers,
    decide,
    declare_body,
    declare_case,
    employer_headers,
    eventually,
    illness_declaration,
    inbox_task,
    loose_client,
    new_org,
    new_region,
    next_month,
    normal_declaration,
    open_task,
    to_initiation,
    wait_stage,
)
from tests.support.people import fixed_id_number, new_id_number


def _with_mobile(body: Json, mobile: str) -> Json:
    return {**body, "person": {**body["person"], "mobile": mobile}}


def _problem() -> ContributionProblem:
    return ContributionProblem(
        id="arrears-1",
        kind=ContributionProblemKind.ARREARS,
        detail="three months unpaid in 2019",
        amount_yuan=Decimal("1260.00"),
    )


# ---- POST /cases -----------------------------------------------------------------------------


async def test_declare_starts_a_case_once_per_idempotency_key(api: Api) -> None:
    org = new_org()
    employer = employer_headers(api, org)
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
    employer = {**employer_headers(api, new_org()), "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
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
    org = new_org()
    employer = employer_headers(api, org)
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
        "/cases", json=declare_body(id_number), headers=employer_headers(api, new_org())
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
    owner = employer_headers(api, new_org())
    case_id, id_number = await declare_case(api, owner)
    await wait_stage(api.http, owner, case_id, "pre-review")
    stranger = await api.http.post(
        "/cases", json=declare_body(id_number), headers=employer_headers(api, new_org())
    )
    assert_problem(stranger, 403, slug="wrong-organisation")
    assert "pre-review" not in stranger.text


async def test_a_later_case_of_the_same_person_gets_an_id_of_its_own(api: Api) -> None:
    """After employer A's case is withdrawn, employer B's declaration starts a new case with a
    new id: A's closed case, its read model and its records stay A's, and B sees its own."""
    org_a, org_b = new_org(), new_org()
    a, b = employer_headers(api, org_a), employer_headers(api, org_b)
    id_number = new_id_number(1967, 1)
    api.departments.seed(id_number, "王建国")
    first = await api.http.post("/cases", json=declare_body(id_number), headers=a)
    first_id = first.json()["case_id"]
    withdrawn = await api.http.post(
        f"/cases/{first_id}/withdrawal", json={"reason": "moved to another employer"}, headers=a
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await wait_stage(api.http, a, first_id, "withdrawn")
    second = await api.http.post("/cases", json=declare_body(id_number), headers=b)
    assert second.status_code == 201, second.text
    second_id = second.json()["case_id"]
    assert second_id == f"{first_id}-2"
    assert (await case_of(api.http, b, second_id))["organisation"] == org_b
    assert (await case_of(api.http, a, first_id))["stage"] == "withdrawn"
    stranger = await api.http.get(f"/cases/{second_id}", headers=a)
    assert_problem(stranger, 403)

    async def listed() -> bool:
        response = await api.http.get("/cases", headers=b)
        return second_id in [c["case_id"] for c in response.json()["items"]]

    assert await eventually(listed, what="B's case in B's list")


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
    org = new_org()
    employer = {**employer_headers(api, org), "Idempotency-Key": f"declare-{uuid.uuid4().hex}"}
    id_number = new_id_number(*NORMAL_BORN)
    api.departments.seed(id_number, "王建国")
    first = await api.http.post("/cases", json=declare_body(id_number), headers=employer)
    assert_problem(first, 503, slug="not-projected-yet")
    retried = await api.http.post("/cases", json=declare_body(id_number), headers=employer)
    assert retried.status_code == 201, retried.text
    assert retried.json()["created"] is True
    snapshot = await case_of(api.http, employer, retried.json()["case_id"])
    assert [e["actor"] for e in snapshot["events"]].count(f"employer:{org}-officer@{org}") == 1


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
        declare_body(fixed_id_number(_FUTURE)),
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
    (
        "landline-for-mobile",
        _with_mobile(declare_body(new_id_number(*NORMAL_BORN)), "0431-88886666"),
        422,
        "validation",
        "mobile number is 11 digits",
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "slug", "detail"),
    [pytest.param(*row[1:], id=row[0]) for row in DECLARATION_REFUSALS],
)
async def test_declaration_refusals_say_why(
    api: Api, body: Json, status: int, slug: str, detail: str
) -> None:
    response = await api.http.post("/cases", json=body, headers=employer_headers(api, new_org()))
    problem = assert_problem(response, status, slug=slug, detail=detail)
    assert problem["instance"] == "/cases"
    assert_no_id_number(response, body["person"]["id_number"])


async def test_months_out_of_any_calendar_are_refused(api: Api) -> None:
    employer = employer_headers(api, new_org())
    id_number = new_id_number(1967, 1)
    api.departments.seed(id_number, "王建国")
    for declaration in (
        normal_declaration(archive_birth_month="9936-12"),
        normal_declaration(archive_birth_month="1937-01"),  # 30 years from the ID number's
        {"path": "illness", "contribution_years": 16, "appraisal": "complete-loss",
         "requested_month": "0001-01"},
    ):  # fmt: skip
        response = await api.http.post(
            "/cases", json=declare_body(id_number, declaration=declaration), headers=employer
        )
        assert response.status_code == 422, response.text


async def test_only_employers_and_agencies_declare(api: Api) -> None:
    body = declare_body(new_id_number(*NORMAL_BORN))
    clerk = await api.http.post("/cases", json=body, headers=clerk_headers(api, "hr"))
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


# ---- GET /cases, GET /cases/{id}, GET /cases/{id}/audit --------------------------------------


async def test_list_cases_filters_and_pages(api: Api) -> None:
    region = new_region()
    org = new_org()
    employer = employer_headers(api, org)
    normal, normal_id = await declare_case(api, employer, region=region)
    later, later_id = await declare_case(api, employer, region=region, born=(1968, 5))
    early, early_id = await declare_case(api, employer, region=region, illness=True)
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
    clerk = clerk_headers(api, "hr", region)
    by_clerk = await api.http.get("/cases", headers=clerk)
    assert by_clerk.json()["total"] == 3
    outside = await api.http.get("/cases", headers=clerk, params={"region": "220202"})
    assert_problem(outside, 403, slug="wrong-region")
    retiree = api.as_(role="individual", id_number=later_id)
    mine = await api.http.get("/cases", headers=retiree)
    assert [i["case_id"] for i in mine.json()["items"]] == [later]
    other = await api.http.get("/cases", headers=employer_headers(api, new_org()))
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
    org = new_org()
    employer = employer_headers(api, org)
    case_id, id_number = await declare_case(api, employer)
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
    org = new_org()
    employer = employer_headers(api, org)
    case_id, id_number = await declare_case(api, employer)
    clerk = clerk_headers(api, "hr")
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


# ---- the parties' actions --------------------------------------------------------------------


async def test_resubmission_after_a_return(api: Api) -> None:
    org = new_org()
    employer = employer_headers(api, org)
    case_id, _ = await declare_case(api, employer)
    nothing_returned = await api.http.post(
        f"/cases/{case_id}/resubmission",
        json={"declaration": normal_declaration()},
        headers=employer,
    )
    assert_problem(nothing_returned, 409, slug="wrong-stage", detail="nothing was returned")

    hr = clerk_headers(api, "hr")
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
    org = new_org()
    employer = employer_headers(api, org)
    case_id, id_number = await declare_case(api, employer, illness=True, problems=(_problem(),))
    before = await api.http.post(f"/cases/{case_id}/initiation", json={}, headers=employer)
    assert_problem(before, 409, slug="not-yet", detail="initiation follows the contribution check")

    await decide(api.http, clerk_headers(api, "hr"), case_id, "pre-review")
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

    await decide(api.http, clerk_headers(api, "social-insurance"), case_id, "confirm-contributions")
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
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    await to_initiation(api, employer, case_id, REGION)
    response = await api.http.post(f"/cases/{case_id}/initiation", headers=employer)
    assert_problem(response, 409, slug="not-yet", detail=f"opens on {NORMAL_OPENS}")
    task = await open_task(api.http, employer, case_id, "initiate")
    assert task["due"] == "2027-07-31"


async def test_withdrawal(api: Api) -> None:
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
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
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer, illness=True)
    await to_initiation(api, employer, case_id, REGION)
    initiated = await api.http.post(f"/cases/{case_id}/initiation", headers=employer)
    assert initiated.status_code == 200, initiated.text
    late = await api.http.post(
        f"/cases/{case_id}/withdrawal", json={"reason": "changed my mind"}, headers=employer
    )
    assert_problem(late, 409, slug="wrong-stage", detail="ask the HR bureau to cancel")


async def test_cancellation_by_hr(api: Api) -> None:
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    by_employer = await api.http.post(
        f"/cases/{case_id}/cancellation", json={"reason": "x"}, headers=employer
    )
    assert_problem(by_employer, 403, slug="forbidden")
    by_social_insurance = await api.http.post(
        f"/cases/{case_id}/cancellation",
        json={"reason": "duplicate"},
        headers=clerk_headers(api, "social-insurance"),
    )
    assert_problem(by_social_insurance, 403, slug="wrong-department")
    hr = clerk_headers(api, "hr", sub="hr-canceller")
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
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
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
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer, illness=True)
    response = await api.http.post(
        f"/cases/{case_id}/retirement-correction",
        json={"reason": "a cadre, per the archive", "category": "female-cadre"},
        headers=clerk_headers(api, "hr"),
    )
    assert response.status_code == 200, response.text


async def test_correction_without_a_change_is_a_422(api: Api) -> None:
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    async with loose_client(api) as http:
        response = await http.post(
            f"/cases/{case_id}/retirement-correction",
            json={"reason": "nothing really"},
            headers=employer,
        )
    assert_problem(response, 422)


async def test_the_employer_cannot_rewrite_what_pre_review_approved(api: Api) -> None:
    org = new_org()
    employer = employer_headers(api, org)
    id_number = new_id_number(1967, 1)
    api.departments.seed(id_number, "王建国")
    created = await api.http.post("/cases", json=declare_body(id_number), headers=employer)
    case_id = created.json()["case_id"]
    hr = api.as_(role="clerk", department="hr", region="220102", sub="hr-2")
    task = await inbox_task(api.http, hr, case_id, "pre-review")
    approved = await api.http.post(
        f"/cases/{case_id}/tasks/{task['task_id']}/decision",
        json={"outcome": "approve"},
        headers=hr,
    )
    assert approved.status_code == 200
    to_illness = await api.http.post(
        f"/cases/{case_id}/retirement-correction",
        json={
            "reason": "retire early instead",
            "declaration": {
                "path": "illness",
                "contribution_years": 30,
                "requested_month": "2027-03",
                "appraisal": "complete-loss",
            },
        },
        headers=employer,
    )
    assert_problem(to_illness, 409, slug="wrong-stage", detail="HR bureau")
    # A flexible-retirement choice stays the worker's and employer's to make.
    delayed = await api.http.post(
        f"/cases/{case_id}/retirement-correction",
        json={
            "reason": "agreed to work six more months",
            "declaration": {
                "path": "flexible-delay",
                "contribution_years": 30,
                "requested_month": "2028-02",
                "flexible": {"notice_month": "2026-12", "employer_agreed": True},
            },
        },
        headers=employer,
    )
    assert delayed.status_code == 200, delayed.text
    assert delayed.json()["retirement_month"] == "2028-02"
