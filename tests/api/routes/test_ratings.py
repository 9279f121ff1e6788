"""``api/routes/ratings.py``: the retiree rates a closed case, once; the supervisor's figures
count it."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.support import (
    assert_problem,
    declare_case,
    employer_headers,
    new_org,
    new_region,
    wait_stage,
)


async def test_the_retiree_rates_a_closed_case_once(api: Api) -> None:
    region = new_region()
    employer = employer_headers(api, new_org())
    case_id, id_number = await declare_case(api, employer, region=region)
    retiree = api.as_(role="individual", id_number=id_number)
    path = f"/cases/{case_id}/rating"
    assert_problem(
        await api.http.post(path, json={"level": 5}, headers=retiree), 409, slug="case-open"
    )
    withdrawn = await api.http.post(
        f"/cases/{case_id}/withdrawal", json={"reason": "retiring later"}, headers=employer
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await wait_stage(api.http, employer, case_id, "withdrawn")

    for body in ({"level": 0}, {"level": 6}, {"level": 4, "comment": "x" * 501}, {}):
        assert_problem(await api.http.post(path, json=body, headers=retiree), 422)
    assert_problem(await api.http.post(path, json={"level": 1}, headers=employer), 403)
    stranger = api.as_(role="individual", id_number="11010519491231002X")
    assert_problem(await api.http.post(path, json={"level": 1}, headers=stranger), 403)

    rated = await api.http.post(path, json={"level": 4, "comment": " 窗口很耐心 "}, headers=retiree)
    assert rated.status_code == 201, rated.text
    assert (rated.json()["level"], rated.json()["comment"]) == (4, "窗口很耐心")
    again = await api.http.post(path, json={"level": 1}, headers=retiree)
    assert_problem(again, 409, slug="already-rated")

    supervisor = api.as_(role="supervisor", department="hr", region=region)
    ratings = (await api.http.get("/figures", headers=supervisor)).json()["ratings"]
    assert ratings == {
        "count": 1,
        "mean": 4.0,
        "by_level": {"5": 0, "4": 1, "3": 0, "2": 0, "1": 0},
    }
    audit = await api.http.get(f"/cases/{case_id}/audit", headers=supervisor)
    assert [e["action"] for e in audit.json()].count("rate") == 1
