"""A clerk works their inbox in the browser: claims a task, opens the case, is told what each
decision will do, is stopped with a reason in Chinese when the input is wrong (nothing changes),
and decides; a form sent twice is applied once, and a counter clerk's decision says so."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from harness.department_simulator import DepartmentSimulator
from tests.api.support import (
    case_of,
    decide,
    declare_body,
    illness_declaration,
    inbox_task,
    wait_stage,
)
from tests.support.people import new_id_number
from tests.web.conftest import People, Visit
from web.messages import messages

pytestmark = pytest.mark.usefixtures("worker")


async def _declared(
    http: httpx.AsyncClient, who: People, departments: DepartmentSimulator, name: str
) -> str:
    """A new case at pre-review, declared by the module's employer: its id."""
    id_number = new_id_number(1980, 2, female=True)
    departments.seed(id_number, name, actual_years=Decimal(16))
    body = declare_body(
        id_number, name=name, category="female-worker", declaration=illness_declaration()
    )
    employer = who.headers("employer")
    key = f"web-{id_number}"
    declared = await http.post("/cases", json=body, headers={**employer, "Idempotency-Key": key})
    assert declared.status_code == 201, declared.text
    case_id: str = declared.json()["case_id"]
    await wait_stage(http, employer, case_id, "pre-review")
    return case_id


async def _sign_in(tab: Visit, user: str) -> None:
    await tab.page.goto("/signin")
    label = f"{messages()('signin.dev_choose')} {user}"
    async with tab.page.expect_navigation():
        await tab.page.get_by_role("button", name=label).click()


async def test_a_clerk_claims_opens_and_decides_from_the_inbox(
    desktop: Visit, site: str, people: tuple[People, Path, Path], departments: DepartmentSimulator
) -> None:
    who, t = people[0], messages()
    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        case_id = await _declared(http, who, departments, "钱桂芝")
        page = desktop.page
        await _sign_in(desktop, "clerk-hr")
        assert page.url.endswith("/clerk")
        row = page.locator("table.inbox tr", has_text="钱桂芝")
        assert t("task.pre-review") in await row.inner_text()
        assert await desktop.axe_violations() == []

        await row.get_by_role("button", name=f"{t('clerk.claim')} 钱桂芝").click()
        await page.wait_for_url("**/clerk?notice=claimed")
        row = page.locator("table.inbox tr", has_text="钱桂芝")
        assert t("clerk.claimed_by_me") in await row.inner_text()
        await row.get_by_role("button", name=f"{t('clerk.release')} 钱桂芝").click()
        await page.wait_for_url("**/clerk?notice=released")
        row = page.locator("table.inbox tr", has_text="钱桂芝")
        await row.get_by_role("button", name=f"{t('clerk.claim')} 钱桂芝").click()
        await page.wait_for_url("**/clerk?notice=claimed")

        await page.locator("table.inbox tr", has_text="钱桂芝").get_by_role("link").click()
        await page.wait_for_url(f"**/clerk/cases/{case_id}")
        declared = await page.locator("section", has_text=t("clerk.declaration_title")).inner_text()
        assert t("path.illness") in declared and t("appraisal.complete-loss") in declared
        assert t("clerk.years_value", actual="16", deemed="0") in declared
        form = page.locator("form.decision")
        text = await form.inner_text()
        for outcome in ("approve", "reject", "return"):
            assert t(f"consequence.pre-review.{outcome}") in text
        assert await desktop.axe_violations() == []

        # Rejecting without a reason: refused next to the field, what was chosen kept.
        await form.get_by_role("radio", name=t("outcome.reject"), exact=True).check()
        await form.get_by_role("button", name=t("clerk.submit")).click()
        error = page.locator(".decision .error")
        assert await error.inner_text() == t("clerk.error_reason_needed")
        reject = page.locator(".decision").get_by_role(
            "radio", name=t("outcome.reject"), exact=True
        )
        assert await reject.is_checked()
        assert await desktop.axe_violations() == []
        task = await inbox_task(http, who.headers("clerk-hr"), case_id, "pre-review")
        assert task["status"] == "open"  # nothing changed

        form = page.locator("form.decision")
        await form.get_by_role("radio", name=t("outcome.approve"), exact=True).check()
        await form.get_by_role("button", name=t("clerk.submit")).click()
        await page.wait_for_url(f"**/clerk/cases/{case_id}?notice=decided")
        assert t("clerk.notice_decided") in await page.locator("main").inner_text()
        decisions = await page.locator("section", has_text=t("clerk.decisions_title")).inner_text()
        line = t("clerk.decision_line", task=t("task.pre-review"), outcome=t("outcome.approve"))
        assert line in decisions
        snapshot = await case_of(http, who.headers("employer"), case_id)
        assert [d["outcome"] for d in snapshot["decisions"]] == ["approve"]
        # Another department's decision, with the evidence its clerk cited, on the same page.
        evidence = ["缴费凭证 2026-118"]
        social = who.headers("clerk-social-insurance")
        await decide(http, social, case_id, "confirm-contributions", evidence=evidence)
        await page.reload()
        decisions = await page.locator("section", has_text=t("clerk.decisions_title")).inner_text()
        assert t("clerk.decision_evidence", refs=evidence[0]) in decisions
        assert desktop.outside == []


async def _form_token(http: httpx.AsyncClient, case_id: str) -> tuple[str, str]:
    page = await http.get(f"/clerk/cases/{case_id}")
    assert page.status_code == 200, page.text[:300]
    key = page.text.split('name="key" value="', 1)[1].split('"', 1)[0]
    return http.cookies["csrf"], key


async def test_a_decision_sent_twice_is_applied_once_and_the_counter_is_recorded(
    http: httpx.AsyncClient,
    people: tuple[People, Path, Path],
    departments: DepartmentSimulator,
) -> None:
    who = people[0]
    case_id = await _declared(http, who, departments, "孙淑珍")
    task = await inbox_task(http, who.headers("clerk-hr"), case_id, "pre-review")
    await http.get("/signin")
    signed = await http.post("/signin", data={"csrf": http.cookies["csrf"], "user": "clerk-hr"})
    assert signed.headers["location"] == "/clerk"
    csrf, key = await _form_token(http, case_id)
    form = {"csrf": csrf, "key": key, "outcome": "return", "reason": "缺少档案第 3 页",
            "at_counter": "true"}  # fmt: skip
    path = f"/clerk/cases/{case_id}/tasks/{task['task_id']}/decision"
    first = await http.post(path, data=form)
    again = await http.post(path, data=form)  # a double click, or the browser's resend
    assert first.status_code == again.status_code == 303
    snapshot = await case_of(http, who.headers("employer"), case_id)
    assert [(d["outcome"], d["reason"]) for d in snapshot["decisions"]] == [
        ("return", "缺少档案第 3 页")
    ]
    assert snapshot["decisions"][0]["actor"]["at_counter"] is True
    page = await http.get(f"/clerk/cases/{case_id}")
    assert messages()("clerk.at_counter_mark") in page.text


async def test_other_departments_and_forged_forms_change_nothing(
    http: httpx.AsyncClient,
    people: tuple[People, Path, Path],
    departments: DepartmentSimulator,
) -> None:
    who, t = people[0], messages()
    case_id = await _declared(http, who, departments, "周玉兰")
    task = await inbox_task(http, who.headers("clerk-hr"), case_id, "pre-review")
    await http.get("/signin")
    await http.post("/signin", data={"csrf": http.cookies["csrf"], "user": "clerk-provident-fund"})
    page = await http.get(f"/clerk/cases/{case_id}")
    assert t("clerk.nothing_to_decide") in page.text  # so no form: send one anyway
    csrf, key = http.cookies["csrf"], "pf-clerk-try-1"
    path = f"/clerk/cases/{case_id}/tasks/{task['task_id']}/decision"
    refused = await http.post(path, data={"csrf": csrf, "key": key, "outcome": "approve"})
    assert refused.status_code == 403
    assert t("problem.forbidden") in refused.text
    forged = await http.post(path, data={"key": key, "outcome": "approve"})
    assert forged.status_code == 403 and t("errors.csrf") in forged.text
    bad = await http.post(path, data={"csrf": csrf, "key": key, "outcome": "maybe"})
    assert bad.status_code == 400 and t("clerk.error_outcome") in bad.text
    snapshot = await case_of(http, who.headers("employer"), case_id)
    assert snapshot["decisions"] == []
    retiree_view = await http.get("/my")
    assert retiree_view.status_code == 403  # a clerk is not a retiree


async def test_a_decision_by_keyboard_alone(
    desktop: Visit, site: str, people: tuple[People, Path, Path], departments: DepartmentSimulator
) -> None:
    """Tab to the outcome, arrows to choose, type the reason, Enter: no mouse."""
    who, t = people[0], messages()
    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        case_id = await _declared(http, who, departments, "许玉梅")
        page = desktop.page
        await _sign_in(desktop, "clerk-hr")
        await page.goto(f"/clerk/cases/{case_id}")
        for _ in range(80):
            await page.keyboard.press("Tab")
            value = await page.evaluate("document.activeElement.value")
            if await page.evaluate("document.activeElement.type") == "radio":
                break
        else:
            pytest.fail("no outcome reachable by Tab")
        assert value == "approve"
        await page.keyboard.press("ArrowDown")  # reject
        await page.keyboard.press("ArrowDown")  # return
        assert await page.evaluate("document.activeElement.value") == "return"
        await page.keyboard.press("Tab")  # the reason
        await page.keyboard.type("请补充鉴定结论原件")
        await page.keyboard.press("Tab")  # at the counter
        await page.keyboard.press("Tab")  # submit
        assert await page.evaluate("document.activeElement.textContent") == t("clerk.submit")
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert page.url.endswith("?notice=decided")
        snapshot = await case_of(http, who.headers("employer"), case_id)
        assert [(d["outcome"], d["reason"]) for d in snapshot["decisions"]] == [
            ("return", "请补充鉴定结论原件")
        ]
