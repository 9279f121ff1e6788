"""``api/routes/figures.py``: a supervisor's figures on each database, for their region only."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.support import (
    Json,
    assert_problem,
    clerk_headers,
    decide,
    declare_case,
    employer_headers,
    eventually,
    new_org,
    new_region,
)


async def test_a_regions_figures_count_its_cases_and_its_clerks_work(api: Api) -> None:
    region = new_region()
    supervisor = api.as_(role="supervisor", department="hr", region=region)
    empty = (await api.http.get("/figures", headers=supervisor)).json()
    assert (empty["open_cases"], empty["departments"], empty["late_declarations"]) == (0, [], 0)
    assert len(empty["months"]) == 12

    employer = employer_headers(api, new_org())
    early, _ = await declare_case(api, employer, region=region, illness=True)
    await declare_case(api, employer, region=region)
    await decide(api.http, clerk_headers(api, "hr", region), early, "pre-review")

    async def counted() -> Json | None:
        now: Json = (await api.http.get("/figures", headers=supervisor)).json()
        return now if any(d["closed_in_quarter"] for d in now["departments"]) else None

    figures = await eventually(counted, what="the decided task counted")
    assert figures["open_cases"] == 2
    assert figures["late_declarations"] == 1  # the early retirement declared for next month
    hr = next(d for d in figures["departments"] if d["department"] == "hr")
    assert (hr["open_tasks"], hr["closed_in_quarter"], hr["on_time_in_quarter"]) == (1, 1, 1)
    assert hr["on_time_rate"] == 1.0
    assert figures["months"][-1]["declared"] == 2
    assert figures["by_region"] == [
        {"region_code": region, "open_cases": 2, "overdue_cases": figures["overdue_cases"]}
    ]


async def test_figures_are_for_supervisors_of_the_region(api: Api) -> None:
    region = new_region()
    supervisor = api.as_(role="supervisor", department="hr", region=region)
    assert_problem(
        await api.http.get("/figures", headers=supervisor, params={"region": "220202"}), 403
    )
    for claims in (
        {"role": "employer", "organisation": new_org()},
        {"role": "clerk", "department": "hr", "region": region},
    ):
        assert_problem(await api.http.get("/figures", headers=api.as_(**claims)), 403)
    assert_problem(await api.http.get("/figures"), 401)
