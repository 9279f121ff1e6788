from __future__ import annotations

from datetime import date

from tests.api.conftest import EMPLOYER, REGION, Api
from tests.api.support import inbox_task
from tests.support.people import fixed_id_number


async def test_declare_then_decide(api: Api) -> None:
    id_number = fixed_id_number(date(1967, 1, 15), 7, region=REGION)
    api.departments.seed(id_number, "王建国")
    employer = api.as_(role="employer", organisation=EMPLOYER)
    body = {
        "person": {
            "id_number": id_number,
            "name": "王建国",
            "category": "male",
            "region_code": REGION,
        },
        "declaration": {"contribution_years": 30},
    }
    first = await api.http.post("/cases", json=body, headers={**employer, "Idempotency-Key": "k1"})
    assert first.status_code == 201, first.text
    again = await api.http.post("/cases", json=body, headers={**employer, "Idempotency-Key": "k1"})
    assert again.status_code == 201
    assert again.json() == first.json()
    case_id = first.json()["case_id"]
    clerk = api.as_(role="clerk", department="hr", region=REGION)
    # The inbox is shared with every other test's cases in this region: find this one's task.
    task = await inbox_task(api.http, clerk, case_id, "pre-review")
    decided = await api.http.post(
        f"/cases/{case_id}/tasks/{task['task_id']}/decision",
        json={"outcome": "approve"},
        headers=clerk,
    )
    assert decided.status_code == 200, decided.text
    stale = await api.http.post(
        f"/cases/{case_id}/tasks/{task['task_id']}/decision",
        json={"outcome": "approve"},
        headers=clerk,
    )
    assert stale.status_code == 409, stale.text
    assert stale.headers["content-type"] == "application/problem+json"
    snap = await api.http.get(f"/cases/{case_id}", headers=employer)
    assert snap.status_code == 200
    assert snap.json()["id_masked"].count("*") == 10
    nobody = await api.http.get(f"/cases/{case_id}")
    assert nobody.status_code == 401
