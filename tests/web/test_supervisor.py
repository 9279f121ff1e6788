"""A supervisor's figures (page, CSV and ``GET /figures`` alike) change as the clerks work; the
escalation queue refuses a bad reassignment in Chinese; no one else sees the figures."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.department_simulator import DepartmentSimulator
from tests.api.support import decide, declare_body, eventually, illness_declaration, wait_stage
from tests.support.people import REGION, new_id_number
from tests.web.conftest import People, Visit
from web.messages import messages

pytestmark = pytest.mark.usefixtures("worker")


async def _figures(http: httpx.AsyncClient, who: People) -> dict[str, Any]:
    answer = await http.get("/figures", headers=who.headers("supervisor-hr"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _hr(figures: dict[str, Any]) -> dict[str, Any]:
    return next((d for d in figures["departments"] if d["department"] == "hr"), {
        "open_tasks": 0, "closed_in_quarter": 0, "on_time_in_quarter": 0,
    })  # fmt: skip


async def test_the_figures_follow_the_clerks_work(
    http: httpx.AsyncClient, people: tuple[People, Path, Path], departments: DepartmentSimulator
) -> None:
    who, t = people[0], messages()
    before = await _figures(http, who)
    assert before["region"] == REGION[:4] + "00"
    id_number = new_id_number(1980, 6, female=True)
    departments.seed(id_number, "陈桂兰", actual_years=Decimal(16))
    body = declare_body(
        id_number, name="陈桂兰", category="female-worker", declaration=illness_declaration()
    )
    employer = who.headers("employer")
    declared = await http.post(
        "/cases", json=body, headers={**employer, "Idempotency-Key": f"sup-{id_number}"}
    )
    assert declared.status_code == 201, declared.text
    case_id = declared.json()["case_id"]
    await wait_stage(http, employer, case_id, "pre-review")
    during = await _figures(http, who)
    assert during["open_cases"] == before["open_cases"] + 1
    assert during["late_declarations"] == before["late_declarations"] + 1  # T-6 has passed
    assert _hr(during)["open_tasks"] == _hr(before)["open_tasks"] + 1
    this_month = during["months"][-1]
    assert this_month["declared"] == before["months"][-1]["declared"] + 1

    await decide(http, who.headers("clerk-hr"), case_id, "pre-review")

    async def counted() -> dict[str, Any] | None:
        now = await _figures(http, who)
        closed = _hr(now)["closed_in_quarter"] > _hr(before)["closed_in_quarter"]
        return now if closed else None

    after = await eventually(counted, what="the decided task counted")
    hr = _hr(after)
    assert hr["closed_in_quarter"] == _hr(before)["closed_in_quarter"] + 1
    assert hr["on_time_in_quarter"] == _hr(before)["on_time_in_quarter"] + 1  # due days away
    assert hr["mean_working_days"] is not None

    await http.get("/signin")
    await http.post("/signin", data={"csrf": http.cookies["csrf"], "user": "supervisor-hr"})
    page = await http.get("/supervisor")
    assert page.status_code == 200
    assert t("supervisor.title") in page.text and t("department.hr") in page.text
    exported = await http.get("/supervisor/figures.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][0] == t("supervisor.csv_department")
    hr_row = next(r for r in rows if r and r[0] == t("department.hr"))
    assert int(hr_row[4]) == hr["closed_in_quarter"]


async def test_a_bad_reassignment_is_refused_in_chinese(
    http: httpx.AsyncClient, people: tuple[People, Path, Path]
) -> None:
    t = messages()
    await http.get("/signin")
    await http.post("/signin", data={"csrf": http.cookies["csrf"], "user": "supervisor-hr"})
    form = {"csrf": http.cookies["csrf"], "case_id": "retirement-nope", "task_id": "t-1"}
    bad = await http.post("/supervisor/assign", data={**form, "clerk_id": "张 三"})
    assert bad.status_code == 400 and t("supervisor.error_clerk") in bad.text
    unknown = await http.post("/supervisor/assign", data={**form, "clerk_id": "hr-clerk-2"})
    assert unknown.status_code == 404 and t("problem.unknown-case") in unknown.text


async def test_only_supervisors_and_administrators_see_figures(
    http: httpx.AsyncClient, people: tuple[People, Path, Path]
) -> None:
    who = people[0]
    for user in ("employer", "clerk-hr", "retiree"):
        assert (await http.get("/figures", headers=who.headers(user))).status_code == 403
    await http.get("/signin")
    await http.post("/signin", data={"csrf": http.cookies["csrf"], "user": "clerk-hr"})
    refused = await http.get("/supervisor")
    assert refused.status_code == 403 and messages()("supervisor.only") in refused.text
    assert (await http.get("/supervisor/figures.csv")).status_code == 403


async def test_the_figures_page_in_the_browser(phone: Visit, desktop: Visit) -> None:
    for tab in (phone, desktop):
        await tab.page.goto("/signin")
        label = f"{messages()('signin.dev_choose')} supervisor-hr"
        async with tab.page.expect_navigation():
            await tab.page.get_by_role("button", name=label).click()
        assert tab.page.url.endswith("/supervisor")
        assert await tab.axe_violations() == []
        assert tab.outside == []
