"""One case from declaration to completion through the pages alone, in the browser: the employer
declares, each department's clerk decides from their inbox, the employer initiates in the
window, the retiree sees the result, and the supervisor's figures move with it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from playwright.async_api import Browser

from harness.department_simulator import DepartmentSimulator
from tests.api.support import next_month
from tests.support.people import REGION
from tests.web.conftest import DESKTOP, PHONE, People, Visit, visit
from web.messages import messages

pytestmark = pytest.mark.usefixtures("worker")
NAME = "赵秀英"


async def _as(browser: Browser, site: str, user: str, *, phone: bool = False) -> Visit:
    tab = await visit(browser, site, PHONE if phone else DESKTOP)
    await tab.page.goto("/signin")
    async with tab.page.expect_navigation():
        label = f"{messages()('signin.dev_choose')} {user}"
        await tab.page.get_by_role("button", name=label).click()
    return tab


async def _decide(browser: Browser, site: str, department: str, task: str) -> None:
    """The department's clerk finds the task in the inbox, opens it, approves."""
    t = messages()
    clerk = await _as(browser, site, f"clerk-{department}")
    page = clerk.page
    try:
        row = page.locator("table.inbox tr", has_text=NAME).filter(has_text=t(f"task.{task}"))
        for _ in range(60):  # the task appears once the department step before it has run
            if await row.count():
                break
            await page.wait_for_timeout(500)
            await page.reload()
        await row.get_by_role("link").click()
        form = page.locator("form.decision", has_text=t(f"task.{task}"))
        await form.get_by_role("radio", name=t("outcome.approve"), exact=True).check()
        async with page.expect_navigation():
            await form.get_by_role("button", name=t("clerk.submit")).click()
        assert t("clerk.notice_decided") in await page.locator("main").inner_text()
        assert clerk.outside == []
    finally:
        await clerk.context.close()


async def test_a_case_through_the_pages_alone(
    browser: Browser,
    site: str,
    people: tuple[People, Path, Path],
    departments: DepartmentSimulator,
) -> None:
    who, t = people[0], messages()
    departments.seed(
        who.retiree_id_number, NAME, actual_years=Decimal(16), fund_balance=Decimal(30000)
    )
    supervisor = await _as(browser, site, "supervisor-hr")
    figures = supervisor.page.locator("dl.figures")
    open_before = int(await figures.locator("dd").first.inner_text())

    employer = await _as(browser, site, "employer")
    page = employer.page
    await page.goto("/employer/declare")
    await page.get_by_label(t("declare.name")).fill(NAME)
    await page.get_by_label(t("declare.id_number")).fill(who.retiree_id_number)
    await page.get_by_label(t("category.female-worker")).check()
    await page.get_by_label(t("declare.region_code")).fill(REGION)
    await page.get_by_label(t("path.illness")).check()
    await page.get_by_label(t("declare.contribution_years")).fill("16")
    await page.get_by_label(t("declare.requested_month")).fill(next_month())
    await page.get_by_label(t("declare.appraisal")).select_option("complete-loss")
    async with page.expect_navigation():
        await page.get_by_role("button", name=t("declare.submit")).click()
    case_url = page.url.split("?")[0]

    await supervisor.page.reload()
    assert int(await figures.locator("dd").first.inner_text()) == open_before + 1

    await _decide(browser, site, "hr", "pre-review")
    await _decide(browser, site, "social-insurance", "confirm-contributions")
    await page.goto(case_url)
    button = page.get_by_role("button", name=t("employer.initiate_submit"))
    for _ in range(60):
        if await button.count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    async with page.expect_navigation():
        await button.click()
    await _decide(browser, site, "hr", "formal-approval")
    await _decide(browser, site, "social-insurance", "confirm-pension")
    await _decide(browser, site, "medical-security", "confirm-medical-years")
    await _decide(browser, site, "provident-fund", "fund-withdrawal")

    retiree = await _as(browser, site, "retiree", phone=True)
    done = t("my.stage", stage=t("stage.completed"))
    for _ in range(60):
        if done in await retiree.page.locator("main").inner_text():
            break
        await retiree.page.wait_for_timeout(500)
        await retiree.page.reload()
    text = await retiree.page.locator("main").inner_text()
    assert done in text and t("my.fund", amount="30000.00") in text
    assert await retiree.axe_violations() == []

    await supervisor.page.reload()
    assert int(await figures.locator("dd").first.inner_text()) == open_before
    hr_row = supervisor.page.locator("table.inbox tr", has_text=t("department.hr"))
    assert "100.0%" in await hr_row.inner_text()
    for tab in (supervisor, employer, retiree):
        assert tab.outside == []
        await tab.context.close()
