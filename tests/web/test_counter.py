"""The offline counter (线下综窗): an HR clerk declares for a person, naming their employer, and
initiates for them from the case's page; the case records both as made at the counter. Only an
HR clerk acts there."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from harness.department_simulator import DepartmentSimulator
from tests.api.support import decide, next_month, wait_stage
from tests.support.people import REGION, new_id_number
from tests.web.conftest import People, Visit
from web.messages import messages

pytestmark = pytest.mark.usefixtures("worker")


async def _signed_in(http: httpx.AsyncClient, user: str) -> None:
    await http.get("/signin")
    await http.post("/signin", data={"csrf": http.cookies["csrf"], "user": user})


async def test_an_hr_clerk_declares_and_initiates_for_a_person_at_the_counter(
    http: httpx.AsyncClient, people: tuple[People, Path, Path], departments: DepartmentSimulator
) -> None:
    who, t = people[0], messages()
    id_number = new_id_number(1980, 8, female=True)
    departments.seed(id_number, "韩淑兰", actual_years=Decimal(16))
    await _signed_in(http, "clerk-hr")
    inbox = await http.get("/clerk")
    assert 'href="/clerk/counter/declare"' in inbox.text
    page = await http.get("/clerk/counter/declare")
    assert page.status_code == 200 and t("counter.title") in page.text
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key is not None
    form = {
        "csrf": http.cookies["csrf"], "key": key.group(1), "name": "韩淑兰",
        "id_number": id_number, "category": "female-worker", "region_code": REGION,
        "path": "illness", "contribution_years": "16", "requested_month": next_month(),
        "appraisal": "complete-loss",
    }  # fmt: skip
    missing = await http.post("/clerk/counter/declare", data=form)
    assert missing.status_code == 400 and t("counter.error_organisation_kind") in missing.text
    form |= {"organisation_kind": "employer", "organisation": who.organisation}
    declared = await http.post("/clerk/counter/declare", data=form)
    assert declared.status_code == 303, declared.text[:500]
    case_id = declared.headers["location"].split("/")[-1].split("?")[0]
    employer = who.headers("employer")
    snapshot = await wait_stage(http, employer, case_id, "pre-review")  # the employer's case
    assert snapshot["organisation"] == who.organisation

    await decide(http, who.headers("clerk-hr"), case_id, "pre-review")
    await decide(http, who.headers("clerk-social-insurance"), case_id, "confirm-contributions")
    await wait_stage(http, employer, case_id, "awaiting-initiation")
    case_page = await http.get(f"/clerk/cases/{case_id}")
    assert t("counter.initiate") in case_page.text
    key = re.search(r'name="key" value="([^"]+-initiate)"', case_page.text)
    assert key is not None
    done = await http.post(
        f"/clerk/cases/{case_id}/counter/initiation",
        data={"csrf": http.cookies["csrf"], "key": key.group(1)},
    )
    assert done.status_code == 303
    await wait_stage(http, employer, case_id, "joint-handling")
    audit = await http.get(f"/cases/{case_id}/audit", headers=who.headers("clerk-hr"))
    at_counter = {e["action"] for e in audit.json() if e["at_counter"]}
    assert {"declare", "initiate"} <= at_counter


async def test_only_an_hr_clerk_acts_at_the_counter(
    http: httpx.AsyncClient, people: tuple[People, Path, Path]
) -> None:
    await _signed_in(http, "clerk-medical-security")
    refused = await http.get("/clerk/counter/declare")
    assert refused.status_code == 403 and messages()("counter.hr_only") in refused.text
    inbox = await http.get("/clerk")
    assert 'href="/clerk/counter/declare"' not in inbox.text


async def test_the_counter_form_in_the_browser(desktop: Visit) -> None:
    page = desktop.page
    await page.goto("/signin")
    async with page.expect_navigation():
        await page.get_by_role("button", name=f"{messages()('signin.dev_choose')} clerk-hr").click()
    await page.goto("/clerk/counter/declare")
    assert await desktop.axe_violations() == []
    assert desktop.outside == []
