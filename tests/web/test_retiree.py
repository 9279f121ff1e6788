"""A retiree follows her own case on her phone, in a real browser, from the day her employer
declares her until the pension is awarded: stage, what is expected of whom, the nine items, the
timeline, the results and the messages that reached her phone, all in Chinese, every state of the
page passing axe."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from domain.idcard import mask
from domain.months import YearMonth
from harness.department_simulator import DepartmentSimulator
from tests.api.support import (
    case_of,
    decide,
    declare_body,
    eventually,
    illness_declaration,
    wait_stage,
)
from tests.web.conftest import People, Visit
from web.formatting import cn_month
from web.messages import messages

NAME = "赵秀英"
FUND = Decimal("52000.00")

pytestmark = pytest.mark.usefixtures("worker")


async def _sign_in_by_keyboard(tab: Visit, user: str) -> None:
    """As a keyboard user would: Tab to the user's button, Enter."""
    page = tab.page
    await page.goto("/signin?next=/my")
    label = f"{messages()('signin.dev_choose')} {user}"
    for _ in range(60):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.getAttribute('aria-label')") == label:
            break
    else:
        pytest.fail(f"no button for {user} reachable by Tab")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url.endswith("/my")


async def _text(tab: Visit) -> str:
    return await tab.page.locator("main").inner_text()


async def test_a_retiree_follows_her_case_to_the_pension(
    phone: Visit,
    site: str,
    people: tuple[People, Path, Path],
    departments: DepartmentSimulator,
) -> None:
    who, _, _ = people
    t = messages()
    departments.seed(who.retiree_id_number, NAME, actual_years=Decimal(16), fund_balance=FUND)
    await _sign_in_by_keyboard(phone, "retiree")
    assert t("my.no_case") in await _text(phone)
    assert await phone.axe_violations() == []

    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        employer = who.headers("employer")
        body = declare_body(
            who.retiree_id_number,
            name=NAME,
            category="female-worker",
            declaration=illness_declaration(),
        )
        body["person"]["mobile"] = "13604310077"
        declared = await http.post(
            "/cases", json=body, headers={**employer, "Idempotency-Key": "web-retiree"}
        )
        assert declared.status_code == 201, declared.text
        case_id = declared.json()["case_id"]
        await wait_stage(http, employer, case_id, "pre-review")

        await phone.page.reload()
        text = await _text(phone)
        assert t("my.hello", name=NAME, id=mask(who.retiree_id_number)) in text
        assert who.retiree_id_number not in text
        assert t("my.stage", stage=t("stage.pre-review")) in text
        hr_clerks = t("assignee.clerk", department=t("department.hr"))
        assert t("my.next_line", who=hr_clerks, task=t("task.pre-review")) in text
        for item in ("item.pension-eligibility", "item.provident-fund-withdrawal"):
            assert t(item) in text
        assert t("my.timeline_first_pension") in text
        assert t("my.reward_title") in text
        assert await phone.axe_violations() == []

        await decide(http, who.headers("clerk-hr"), case_id, "pre-review")
        await decide(http, who.headers("clerk-social-insurance"), case_id, "confirm-contributions")
        await wait_stage(http, employer, case_id, "awaiting-initiation")
        await phone.page.reload()
        text = await _text(phone)
        assert t("my.stage", stage=t("stage.awaiting-initiation")) in text
        employer_words = t("assignee.organisation")
        assert t("my.next_line", who=employer_words, task=t("task.initiate")) in text

        initiated = await http.post(f"/cases/{case_id}/initiation", json={}, headers=employer)
        assert initiated.status_code == 200, initiated.text
        await decide(http, who.headers("clerk-hr"), case_id, "formal-approval")
        for department, kind in (
            ("social-insurance", "confirm-pension"),
            ("medical-security", "confirm-medical-years"),
            ("provident-fund", "fund-withdrawal"),
        ):
            await decide(http, who.headers(f"clerk-{department}"), case_id, kind)

        async def completed() -> dict[str, object] | None:
            snapshot = await case_of(http, employer, case_id)
            return snapshot if snapshot["stage"] == "completed" else None

        snapshot = await eventually(completed, timeout=30, what="the case completed")

    await phone.page.reload()
    text = await _text(phone)
    assert t("my.stage", stage=t("stage.completed")) in text
    pension = snapshot["pension"]
    assert isinstance(pension, dict)
    amount = f"{Decimal(str(pension['monthly_amount'])):.2f}"
    first = cn_month(YearMonth.parse(str(pension["first_month"])))
    assert t("my.pension", amount=amount, month=first) in text
    assert t("my.fund", amount=f"{FUND:.2f}") in text
    done = await phone.page.locator("table.items tr.item-done").count()
    assert done >= 5
    assert await phone.axe_violations() == []

    # Her messages, in Chinese, texted to the number her employer gave (shown masked) and
    # pushed to her app: once the dispatcher has sent them, the page says so.
    async def texted() -> str | None:
        await phone.page.reload()
        shown = await _text(phone)
        return shown if shown.count(t("delivery.sms_sent")) >= 2 else None

    text = await eventually(texted, timeout=30, what="her messages texted")
    assert t("messages.mobile", mobile="136****0077") in text
    assert "13604310077" not in text
    assert "退休审批通过（权益告知）" in text and "退休“一件事”已办结" in text
    assert t("delivery.app_sent") in text
    assert await phone.axe_violations() == []

    # She changes the number her texts go to: a wrong one is refused beside the field.
    page = phone.page
    await page.get_by_label(t("contact.mobile")).fill("0431-8888")
    async with page.expect_navigation():
        await page.get_by_role("button", name=t("contact.submit")).click()
    assert await page.locator("#mobile-error").inner_text() == t("declare.error_mobile")
    assert t("messages.mobile", mobile="136****0077") in await _text(phone)
    assert await phone.axe_violations() == []
    await page.get_by_label(t("contact.mobile")).fill("139 0431 0088")
    async with page.expect_navigation():
        await page.get_by_role("button", name=t("contact.submit")).click()
    text = await _text(phone)
    assert t("contact.changed", mobile="139****0088") in text
    assert "13904310088" not in text

    # She rates the service: a level is needed (said beside it), then it is in, once.
    await page.get_by_role("button", name=t("rating.submit")).click()
    await page.locator("#level-error").wait_for()
    assert await page.locator("#level-error").inner_text() == t("rating.error_level")
    assert await phone.axe_violations() == []
    await page.get_by_role("radio", name=t("rating.level_4"), exact=True).check()
    await page.get_by_label(t("rating.comment")).fill("不用来回跑了")
    async with page.expect_navigation():
        await page.get_by_role("button", name=t("rating.submit")).click()
    text = await _text(phone)
    assert t("rating.thanks") in text
    assert t("rating.given", level=t("rating.level_4")) in text
    assert await page.get_by_role("button", name=t("rating.submit")).count() == 0
    assert await phone.axe_violations() == []
    assert phone.outside == []
