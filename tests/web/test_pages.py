"""The home page and the public service guide over HTTP: Chinese from the catalogue, the
policy's deadlines, the nine items, and the headers that keep every page on this site."""

from __future__ import annotations

import re

import httpx

from contracts.workflow import ItemKey
from policies import load_policy
from web.messages import messages

EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def _is_page(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<html lang="zh-CN"' in response.text
    assert not EXTERNAL.search(response.text), EXTERNAL.search(response.text)


async def test_the_home_page_says_what_the_service_is_and_for_whom(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/")
    _is_page(page)
    t = messages()
    for key in ("home.title", "home.retiree", "home.employer", "home.clerk", "home.supervisor"):
        assert t(key) in page.text
    assert 'href="/guide"' in page.text
    months = load_policy().timeline.declaration_months_before
    assert t("home.lead", declaration=months) in page.text


async def test_the_guide_lists_the_nine_items_with_the_policys_deadlines(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/guide")
    _is_page(page)
    t = messages()
    text = page.text
    for key in ItemKey:
        assert f'id="{key.value}"' in text
        assert t(f"item.{key.value}") in text
    assert text.count('<article class="item"') == len(ItemKey) == 9
    policy = load_policy()
    assert f"T 前 {policy.timeline.declaration_months_before} 个月内" in text
    assert f"T 前 {policy.timeline.contribution_check_months_before} 个月反馈" in text
    assert f"T 前 {policy.timeline.initiation_months_before} 个月" in text
    fund_days = policy.clerk_sla.working_days["provident-fund"]  # type: ignore[index]
    assert f"受理之日起 {fund_days} 个工作日内作出决定" in text
    # What no official text confirms says so beside it; the household check is verified.
    assert text.count('class="unverified"') == 7
    assert "{" not in text.replace("{%", "")  # every placeholder filled


async def test_the_api_is_unchanged_beside_the_pages(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    assert not {"/", "/guide", "/preferences"} & set(schema["paths"])
    assert "/inbox" in schema["paths"]
    problem = await http.get("/inbox")
    assert problem.status_code == 401
    assert problem.headers["content-type"] == "application/problem+json"
