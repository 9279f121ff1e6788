"""``api/routes/tasks.py``: a clerk's inbox (``GET /inbox``), deciding, claiming, releasing and
assigning a task, and the supervisors' escalation queue (``GET /escalations``).

The database is shared by every test of a session: a test that counts an inbox uses its own
region (``new_region``).
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx

from domain.idcard import mask
from tests.api.conftest import Api
from tests.api.support import (
    Json,
    assert_no_id_number,
    assert_problem,
    audit_of,
    clerk_headers,
    decide,
    declare_case,
    employer_headers,
    eventually,
    inbox_task,
    new_org,
    new_region,
    to_initiation,
    wait_stage,
)

# ---- decisions, claims, assignment -----------------------------------------------------------


def _server_timing(response: httpx.Response) -> dict[str, float]:
    """``temporal;dur=12.3, app;dur=4.5`` -> {"temporal": 12.3, "app": 4.5}."""
    parts = (item.strip().split(";dur=") for item in response.headers["server-timing"].split(","))
    return {name: float(value) for name, value in parts}


async def test_decisions(api: Api) -> None:
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    hr = clerk_headers(api, "hr")
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
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    hr = clerk_headers(api, "hr")
    await decide(api.http, hr, case_id, "pre-review", "reject", reason="not insured in Jilin")
    snapshot = await wait_stage(api.http, employer, case_id, "rejected")
    assert snapshot["closed_reason"] == "pre-review rejected: not insured in Jilin"


async def test_a_long_reason_does_not_wedge_the_case(api: Api) -> None:
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    hr = clerk_headers(api, "hr")
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
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    alice = clerk_headers(api, "hr", sub="hr-alice")
    bob = clerk_headers(api, "hr", sub="hr-bob")
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


# ---- GET /inbox, GET /escalations ------------------------------------------------------------


async def test_inbox_filters_sorts_by_due_date_and_pages(api: Api) -> None:
    region = new_region()
    employer = employer_headers(api, new_org())
    hr = clerk_headers(api, "hr", region, sub="hr-inbox")
    first, _ = await declare_case(api, employer, region=region)
    # The early case goes on to formal approval: opened later, due sooner (5 working days).
    early, early_id = await declare_case(api, employer, region=region, illness=True)
    await to_initiation(api, employer, early, region)
    assert (await api.http.post(f"/cases/{early}/initiation", headers=employer)).status_code == 200
    await inbox_task(api.http, hr, early, "formal-approval")
    last, _ = await declare_case(api, employer, region=region, born=(1968, 5))
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
    other = await api.http.get(
        "/inbox", headers=clerk_headers(api, "hr", region), params={"mine": True}
    )
    assert other.json()["total"] == 0

    medical = await api.http.get("/inbox", headers=clerk_headers(api, "medical-security", region))
    assert medical.json()["total"] == 0
    assert_problem(await api.http.get("/inbox", headers=employer), 403, slug="forbidden")
    for params in ({"kind": "nap"}, {"status": "lost"}, {"due_before": "soon"}, {"limit": 0}):
        assert_problem(await api.http.get("/inbox", headers=hr, params=params), 422)


async def test_missed_clerk_deadline_is_escalated(skipping_api: Api) -> None:
    api = skipping_api
    region = new_region()
    employer = employer_headers(api, new_org())
    hr = clerk_headers(api, "hr", region)
    case_id, _ = await declare_case(api, employer, region=region)
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
