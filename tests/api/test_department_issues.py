"""A department's refusal, as its clerk meets it: the provident fund centre's own system (the
simulator, over signed HTTP) refuses the withdrawal of a frozen account; the fund clerk's inbox
shows the department's message, what rejecting the task would do and which attempt it is; once
the account is unfrozen, approving runs the step again and the money is paid once."""

from __future__ import annotations

import uuid

from tests.api.conftest import REGION, Api
from tests.api.support import (
    Json,
    decide,
    declare_body,
    eventually,
    illness_declaration,
    wait_stage,
)
from tests.support.people import new_id_number

FROZEN = "the account is frozen"  # the fund centre's own words (simulator/storage.py)


async def _issue(api: Api, clerk: dict[str, str], case_id: str, attempt: int) -> Json:
    """The case's open department-issue task of this attempt, as the clerk's inbox lists it."""

    async def found() -> Json | None:
        response = await api.http.get(
            "/inbox", headers=clerk, params={"kind": "department-issue", "limit": 200}
        )
        assert response.status_code == 200, response.text
        return next(
            (
                t
                for t in response.json()["items"]
                if t["case_id"] == case_id and t["attempt"] == attempt
            ),
            None,
        )

    return await eventually(found, what=f"department issue, attempt {attempt}")


async def test_a_refused_withdrawal_is_a_task_that_says_what_rejecting_does(api: Api) -> None:
    org = f"emp-{uuid.uuid4().hex[:8]}"
    employer = api.as_(role="employer", organisation=org, sub=f"{org}-officer")

    def clerk(department: str) -> dict[str, str]:
        return api.as_(role="clerk", department=department, region=REGION, sub=f"{department}-c")

    id_number = new_id_number(1980, 1, female=True)
    api.departments.seed(id_number, "李秀兰", fund_status="frozen")
    body = declare_body(
        id_number, name="李秀兰", category="female-worker", declaration=illness_declaration()
    )
    declared = await api.http.post("/cases", json=body, headers=employer)
    assert declared.status_code == 201, declared.text
    case_id = declared.json()["case_id"]
    await decide(api.http, clerk("hr"), case_id, "pre-review")
    await decide(api.http, clerk("social-insurance"), case_id, "confirm-contributions")
    await wait_stage(api.http, employer, case_id, "awaiting-initiation")
    initiated = await api.http.post(f"/cases/{case_id}/initiation", json={}, headers=employer)
    assert initiated.status_code == 200, initiated.text
    await decide(api.http, clerk("hr"), case_id, "formal-approval")
    fund = clerk("provident-fund")
    await decide(api.http, fund, case_id, "fund-withdrawal")

    first = await _issue(api, fund, case_id, attempt=1)
    assert first["department"] == "provident-fund"
    assert "refused" in first["title"]
    assert first["if_rejected"], "the clerk must see what rejecting does before deciding"
    assert "other departments" in first["if_rejected"]
    case = (await api.http.get(f"/cases/{case_id}", headers=employer)).json()
    task = next(t for t in case["tasks"] if t["id"] == first["task_id"])
    assert task["detail"] == FROZEN  # the department's own message

    # Approved without a fix: the same refusal again, and the task says so.
    again = await api.http.post(
        f"/cases/{case_id}/tasks/{first['task_id']}/decision",
        json={"outcome": "approve", "reason": "asked again"},
        headers=fund,
    )
    assert again.status_code == 200, again.text
    second = await _issue(api, fund, case_id, attempt=2)
    assert second["task_id"] != first["task_id"]
    assert "attempt 2" in second["title"]

    # The court lifts the freeze (the fund centre's record changes); approving runs the step.
    api.departments.seed(id_number, "李秀兰", fund_status="active")
    fixed = await api.http.post(
        f"/cases/{case_id}/tasks/{second['task_id']}/decision",
        json={"outcome": "approve", "reason": "freeze lifted"},
        headers=fund,
    )
    assert fixed.status_code == 200, fixed.text

    async def paid() -> Json | None:
        snapshot = (await api.http.get(f"/cases/{case_id}", headers=employer)).json()
        return snapshot if snapshot.get("fund") and snapshot["fund"]["payout_id"] else None

    snapshot = await eventually(paid, what="the payout")
    payouts = [
        e for e in api.platform.effects(case_id=case_id) if e.kind == "payout"
    ]  # the fund centre's own list: paid once
    assert [p.reference for p in payouts] == [snapshot["fund"]["payout_id"]]
    still_open = [
        t for t in snapshot["tasks"] if t["kind"] == "department-issue" and t["status"] == "open"
    ]
    assert still_open == []
