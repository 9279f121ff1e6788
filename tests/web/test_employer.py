"""An employer's officer declares a retiree through the form (checked as they type, refused field
by field in Chinese with nothing declared, declared once however often it is sent), follows the
case and initiates the joint application from its page."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.idcard import mask
from harness.department_simulator import DepartmentSimulator
from tests.api.support import case_of, decide, inbox_task, next_month, open_task, wait_stage
from tests.support.people import REGION, new_id_number
from tests.web.conftest import People, Visit
from web.messages import messages

pytestmark = pytest.mark.usefixtures("worker")


async def _signed_in(http: httpx.AsyncClient, user: str = "employer") -> None:
    await http.get("/signin")
    answer = await http.post("/signin", data={"csrf": http.cookies["csrf"], "user": user})
    assert answer.status_code == 303


async def _form(http: httpx.AsyncClient) -> dict[str, str]:
    page = await http.get("/employer/declare")
    assert page.status_code == 200
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key is not None
    return {"csrf": http.cookies["csrf"], "key": key.group(1)}


def _illness(id_number: str, name: str, **overrides: str) -> dict[str, str]:
    return {
        "name": name,
        "id_number": id_number,
        "category": "female-worker",
        "region_code": REGION,
        "path": "illness",
        "contribution_years": "16",
        "deemed_years": "0",
        "requested_month": next_month(),
        "appraisal": "complete-loss",
        **overrides,
    }


async def _cases(http: httpx.AsyncClient, who: People) -> list[dict[str, Any]]:
    listed = await http.get("/cases", headers=who.headers("employer"), params={"limit": 200})
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


async def test_every_mistake_is_named_beside_its_field_and_nothing_is_declared(
    http: httpx.AsyncClient, people: tuple[People, Path, Path]
) -> None:
    who, t = people[0], messages()
    await _signed_in(http)
    before = len(await _cases(http, who))
    bad = {
        "name": "",
        "id_number": "220102198001011235",  # wrong check character
        "category": "",
        "region_code": "2201",
        "path": "illness",
        "contribution_years": "abc",
        "requested_month": "next spring",
        "appraisal": "",
        "mobile": "0431-8888",  # a landline
    }
    refused = await http.post("/employer/declare", data={**await _form(http), **bad})
    assert refused.status_code == 400
    for key in (
        "declare.error_name",
        "declare.error_id_check-character",
        "declare.error_category",
        "declare.error_region",
        "declare.error_years",
        "declare.error_month",
        "declare.error_appraisal",
        "declare.error_mobile",
    ):
        assert t(key) in refused.text, key
    assert 'value="next spring"' in refused.text  # what was typed is kept
    assert 'aria-invalid="true" aria-describedby="name-error"' in refused.text
    assert len(await _cases(http, who)) == before


async def test_the_retirement_rules_refuse_beside_the_field_they_concern(
    http: httpx.AsyncClient, people: tuple[People, Path, Path]
) -> None:
    who, t = people[0], messages()
    await _signed_in(http)
    before = len(await _cases(http, who))
    data = _illness(new_id_number(1980, 3, female=True), "吴凤英", appraisal="partial-loss")
    refused = await http.post("/employer/declare", data={**await _form(http), **data})
    assert refused.status_code == 400
    assert t("rule.early.illness.appraisal") in refused.text
    assert 'id="appraisal-error"' in refused.text
    assert len(await _cases(http, who)) == before


async def test_a_form_sent_twice_declares_once(
    http: httpx.AsyncClient, people: tuple[People, Path, Path], departments: DepartmentSimulator
) -> None:
    who = people[0]
    await _signed_in(http)
    id_number = new_id_number(1980, 4, female=True)
    departments.seed(id_number, "郑丽华", actual_years=Decimal(16))
    data = {**await _form(http), **_illness(id_number, "郑丽华")}
    first = await http.post("/employer/declare", data=data)
    again = await http.post("/employer/declare", data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    case_id = first.headers["location"].split("/")[-1].split("?")[0]
    ours = [c for c in await _cases(http, who) if c["id_masked"] == mask(id_number)]
    assert [c["case_id"] for c in ours] == [case_id]
    listing = await http.get("/employer")
    assert "郑丽华" in listing.text


async def test_an_employer_declares_by_keyboard_and_initiates_from_the_case_page(
    desktop: Visit,
    site: str,
    people: tuple[People, Path, Path],
    departments: DepartmentSimulator,
) -> None:
    who, t = people[0], messages()
    page = desktop.page
    id_number = new_id_number(1980, 5, female=True)
    departments.seed(id_number, "冯秀梅", actual_years=Decimal(16))
    await page.goto("/signin")
    async with page.expect_navigation():
        await page.get_by_role("button", name=f"{t('signin.dev_choose')} employer").click()
    await page.goto("/employer/declare")
    assert await desktop.axe_violations() == []
    # The fields of the other paths are hidden until their path is chosen.
    assert not await page.locator("#appraisal").is_visible()
    await page.get_by_label(t("declare.name")).fill("冯秀梅")
    await page.get_by_label(t("category.female-worker")).check()
    await page.get_by_label(t("declare.id_number")).press_sequentially(id_number)
    live = page.locator("#id_number-live")
    await live.filter(has_text=t("declare.gender_female")).wait_for()
    assert "1980" in await live.inner_text()
    await page.get_by_label(t("declare.region_code")).fill(REGION)
    await page.get_by_label(t("declare.mobile")).fill("+86 135 0431 6600")
    await page.get_by_label(t("path.illness")).check()
    assert await page.locator("#appraisal").is_visible()
    await page.get_by_label(t("declare.contribution_years")).fill("16")
    await page.get_by_label(t("declare.requested_month")).fill(next_month())
    await page.get_by_label(t("declare.appraisal")).select_option("complete-loss")
    assert await desktop.axe_violations() == []
    async with page.expect_navigation():
        await page.get_by_label(t("declare.requested_month")).press("Enter")  # submits
    assert "/employer/cases/" in page.url and page.url.endswith("?notice=declared")
    case_id = page.url.split("/")[-1].split("?")[0]
    assert t("employer.notice_declared") in await page.locator("main").inner_text()
    assert await desktop.axe_violations() == []
    # The number is the person's: kept, shown masked to the clerks, never to the employer.
    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        box = await http.get(f"/cases/{case_id}/messages", headers=who.headers("clerk-hr"))
        assert box.json()["mobile_masked"] == "135****6600"
        box = await http.get(f"/cases/{case_id}/messages", headers=who.headers("employer"))
        assert box.json()["mobile_masked"] is None

    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        await wait_stage(http, who.headers("employer"), case_id, "pre-review")
        await decide(http, who.headers("clerk-hr"), case_id, "pre-review")
        await decide(http, who.headers("clerk-social-insurance"), case_id, "confirm-contributions")
        await wait_stage(http, who.headers("employer"), case_id, "awaiting-initiation")
        await page.reload()
        assert await desktop.axe_violations() == []
        async with page.expect_navigation():
            await page.get_by_role("button", name=t("employer.initiate_submit")).click()
        assert page.url.endswith("?notice=initiated")
        await wait_stage(http, who.headers("employer"), case_id, "joint-handling")
    assert desktop.outside == []


async def test_a_returned_declaration_is_corrected_on_its_page(
    http: httpx.AsyncClient, people: tuple[People, Path, Path], departments: DepartmentSimulator
) -> None:
    who, t = people[0], messages()
    id_number = new_id_number(1980, 7, female=True)
    departments.seed(id_number, "蒋玉珍", actual_years=Decimal(16))
    await _signed_in(http)
    declared = await http.post(
        "/employer/declare", data={**await _form(http), **_illness(id_number, "蒋玉珍")}
    )
    case_id = declared.headers["location"].split("/")[-1].split("?")[0]
    await wait_stage(http, who.headers("employer"), case_id, "pre-review")
    await decide(
        http, who.headers("clerk-hr"), case_id, "pre-review", "return", reason="鉴定结论页缺失"
    )
    await open_task(http, who.headers("employer"), case_id, "correct")

    case_page = await http.get(f"/employer/cases/{case_id}")
    assert f'href="/employer/cases/{case_id}/resubmission"' in case_page.text
    page = await http.get(f"/employer/cases/{case_id}/resubmission")
    assert page.status_code == 200
    assert t("declare.return_reason", reason="鉴定结论页缺失") in page.text
    assert 'name="id_number"' not in page.text  # the person is the case's
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key is not None
    form = {"csrf": http.cookies["csrf"], "key": key.group(1)}
    path = f"/employer/cases/{case_id}/resubmission"
    corrected = {k: v for k, v in _illness(id_number, "蒋玉珍").items() if k not in (
        "name", "id_number", "category", "region_code")}  # fmt: skip
    bad = await http.post(path, data={**form, **corrected, "contribution_years": ""})
    assert bad.status_code == 400 and t("declare.error_years") in bad.text
    sent = await http.post(path, data={**form, **corrected})
    assert (sent.status_code, sent.headers["location"]) == (
        303,
        f"/employer/cases/{case_id}?notice=resubmitted",
    )
    # To HR again: once the household check at pre-review has run, a new pre-review task.
    await inbox_task(http, who.headers("clerk-hr"), case_id, "pre-review")
    snapshot = await case_of(http, who.headers("employer"), case_id)
    assert [d["outcome"] for d in snapshot["decisions"]] == ["return"]
    assert [(t["kind"], t["status"]) for t in snapshot["tasks"] if t["kind"] == "correct"] == [
        ("correct", "done")
    ]
    gone = await http.get(path)
    assert gone.status_code == 409 and t("employer.nothing_to_correct") in gone.text
