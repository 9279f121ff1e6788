"""The pages in a real browser (Debian's chromium), on a phone and a desktop: nothing loaded
from off this machine, no accessibility violation axe-core finds, everything reachable and
usable from the keyboard alone, and the API's Swagger UI rendering offline."""

from __future__ import annotations

import pytest

from tests.web.conftest import Visit
from web.messages import messages

PAGES = ("/", "/guide")


@pytest.mark.parametrize("path", PAGES)
async def test_each_page_passes_axe_on_a_phone_and_a_desktop(
    phone: Visit, desktop: Visit, path: str
) -> None:
    for tab in (phone, desktop):
        await tab.page.goto(path)
        assert await tab.axe_violations() == []
        assert tab.outside == []
    # Phone-first: nothing wider than the screen.
    overflow = await phone.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


async def test_the_guide_by_keyboard_alone(phone: Visit) -> None:
    page, t = phone.page, messages()
    await page.goto("/guide")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent")
    assert focused == t("site.skip")
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    # From the main content, the contents: the steps, then the first item.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.getAttribute('href')") == "#steps"
    await page.keyboard.press("Tab")
    assert (
        await page.evaluate("document.activeElement.getAttribute('href')") == "#pension-eligibility"
    )
    await page.keyboard.press("Enter")
    assert page.url.endswith("/guide#pension-eligibility")
    heading = page.locator("#pension-eligibility")
    assert t("item.pension-eligibility") in (await heading.text_content() or "")


async def test_large_text_and_high_contrast_chosen_with_the_keyboard(phone: Visit) -> None:
    page, t = phone.page, messages()
    await page.goto("/guide")
    body_size = "parseFloat(getComputedStyle(document.body).fontSize)"
    before = await page.evaluate(body_size)
    # Reach the large-text choice by tabbing, as a keyboard or switch user would.
    for _ in range(200):
        await page.keyboard.press("Tab")
        label = await page.evaluate("document.activeElement.closest('label')?.textContent.trim()")
        if label == t("prefs.text_normal"):
            break
    else:
        pytest.fail("the text-size choice was not reachable by Tab")
    await page.keyboard.press("ArrowDown")  # the radio group's next choice: large
    await page.keyboard.press("Tab")  # to the contrast group
    await page.keyboard.press("ArrowDown")  # high contrast
    await page.keyboard.press("Tab")  # to the apply button
    assert await page.evaluate("document.activeElement.textContent") == t("prefs.apply")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url.endswith("/guide")
    classes = await page.evaluate("document.documentElement.className")
    assert classes == "text-large contrast-high"
    assert await page.evaluate(body_size) >= before * 1.2
    assert await phone.axe_violations() == []  # the high-contrast page passes too
    assert phone.outside == []


async def test_swagger_ui_renders_with_no_internet(desktop: Visit) -> None:
    page = desktop.page
    await page.goto("/docs")
    title = page.locator(".swagger-ui .info .title")
    await title.wait_for(timeout=15_000)
    assert "退休一件事" in (await title.text_content() or "")
    await page.locator(".opblock-tag").first.wait_for()
    assert desktop.outside == []
