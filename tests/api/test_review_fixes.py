"""Defects a code review found, each shown fixed through the API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from api.auth import Principal
from api.idempotency import ABANDONED_AFTER, _claim, fingerprint, once
from contracts.case import Role
from db.models import ApiRequestRow
from tests.api.conftest import Api
from tests.api.support import (
    assert_problem,
    case_of,
    declare_body,
    eventually,
    inbox_task,
    new_id_number,
    normal_declaration,
    wait_stage,
)


def _org() -> str:
    return f"emp-{uuid.uuid4().hex[:8]}"


def _employer(api: Api, org: str) -> dict[str, str]:
    return api.as_(role="employer", organisation=org, sub=f"{org}-officer")


async def test_two_callers_with_the_same_key_are_both_applied(api: Api) -> None:
    """An Idempotency-Key is the caller's own: another caller choosing the same key must not be
    answered with the first one's result while its own decision is dropped."""
    org = _org()
    employer = _employer(api, org)
    id_number = new_id_number(1967, 1)
    api.departments.seed(id_number, "王建国")
    created = await api.http.post("/cases", json=declare_body(id_number), headers=employer)
    case_id = created.json()["case_id"]
    hr = {
        **api.as_(role="clerk", department="hr", region="220102", sub="hr-1"),
        "Idempotency-Key": "k1",
    }
    task = await inbox_task(api.http, hr, case_id, "pre-review")
    url = f"/cases/{case_id}/tasks/{task['task_id']}/decision"
    assert (await api.http.post(url, json={"outcome": "approve"}, headers=hr)).status_code == 200
    social = {
        **api.as_(role="clerk", department="social-insurance", region="220102", sub="si-1"),
        "Idempotency-Key": "k1",
    }
    confirm = await inbox_task(api.http, social, case_id, "confirm-contributions")
    rejected = await api.http.post(
        f"/cases/{case_id}/tasks/{confirm['task_id']}/decision",
        json={"outcome": "reject", "reason": "contributions missing"},
        headers=social,
    )
    assert rejected.status_code == 200, rejected.text
    assert confirm["task_id"] not in [t["id"] for t in rejected.json()["open_tasks"]]
    await wait_stage(api.http, employer, case_id, "rejected")


async def test_a_later_case_of_the_same_person_gets_an_id_of_its_own(api: Api) -> None:
    """After employer A's case is withdrawn, employer B's declaration starts a new case with a
    new id: A's closed case, its read model and its records stay A's, and B sees its own."""
    org_a, org_b = _org(), _org()
    a, b = _employer(api, org_a), _employer(api, org_b)
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


async def test_months_out_of_any_calendar_are_refused(api: Api) -> None:
    employer = _employer(api, _org())
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


async def test_the_employer_cannot_rewrite_what_pre_review_approved(api: Api) -> None:
    org = _org()
    employer = _employer(api, org)
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


async def test_unknown_http_methods_do_not_grow_the_metrics(api: Api) -> None:
    for method in ("FOO1", "FOO2", "BAR3"):
        await api.http.request(method, "/health")
    text = (await api.http.get("/metrics")).text
    assert "FOO1" not in text
    assert 'method="OTHER"' in text


async def test_an_abandoned_idempotency_key_is_taken_over(api: Api) -> None:
    """A process that died between claiming a key and answering must not block the key for good:
    after a few minutes a retry takes it over and is applied."""
    who = Principal("s", Role.EMPLOYER, "org", None, None, None)
    print_ = fingerprint("POST", "/x", {"a": 1})
    calls = 0

    async def apply() -> tuple[int, object]:
        nonlocal calls
        calls += 1
        return 200, {"n": calls}

    # A first claim that never answered (its process died): the row has no status.
    assert _claim(api.sessions, "employer:s", "dead-key", print_)
    with api.sessions.begin() as db:
        db.execute(
            update(ApiRequestRow)
            .where(ApiRequestRow.key == "dead-key")
            .values(created_at=datetime.now(UTC) - ABANDONED_AFTER - timedelta(seconds=1))
        )
    answer = await once(api.sessions, who, "dead-key", print_, apply)
    assert answer.status_code == 200
    assert calls == 1
    again = await once(api.sessions, who, "dead-key", print_, apply)
    assert again.body == answer.body
    assert calls == 1
