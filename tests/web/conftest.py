"""The service with its pages: in-process for HTTP checks, served by uvicorn for the browser, and
Debian's chromium driven by Playwright with every request off this machine refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    ViewportSize,
    async_playwright,
)
from temporalio.testing import WorkflowEnvironment

from api.devauth import ensure_dev_keys
from harness.browser import ChromiumMissing, launch
from harness.scratch import sqlite_database
from service.settings import Settings
from tests.support.served import served
from web.app import create_app

AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def web_settings(
    tmp_path_factory: pytest.TempPathFactory, dev_server: WorkflowEnvironment
) -> Settings:
    folder = tmp_path_factory.mktemp("web")
    _, jwks = ensure_dev_keys(folder / "keys")
    with sqlite_database(folder) as url:
        return Settings(
            database_url=url,
            temporal_address=dev_server.client.service_client.config.target_host,
            temporal_task_queue=f"web-{uuid.uuid4().hex[:8]}",
            auth_jwks_file=jwks,
            case_id_key=uuid.uuid4().hex,
        )


@pytest.fixture(scope="module")
async def web_app(web_settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(web_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-less visitor of the in-process service (cookies kept between requests)."""
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pages.test") as client:
        yield client


@pytest.fixture(scope="module")
async def site(web_settings: Settings) -> AsyncIterator[str]:
    """The service under uvicorn, as ``make run`` serves it: its base URL."""
    async with served(create_app(web_settings)) as url:
        yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        try:
            launched = await launch(playwright)
        except ChromiumMissing as exc:
            pytest.fail(str(exc), pytrace=False)
        yield launched
        await launched.close()


@dataclass
class Visit:
    """A browser tab on the site, and every request it tried to make elsewhere (refused)."""

    page: Page
    context: BrowserContext
    outside: list[str] = field(default_factory=list)

    async def axe_violations(self) -> list[dict[str, Any]]:
        """axe-core's violations on the page as it is now (WCAG 2.1 A and AA rules)."""
        found: list[dict[str, Any]] = await self.page.evaluate(
            """async () => {
                const result = await axe.run(document, {
                    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                    resultTypes: ['violations'],
                });
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ')),
                }));
            }"""
        )
        return found


async def visit(browser: Browser, site: str, viewport: ViewportSize) -> Visit:
    context = await browser.new_context(base_url=site, locale="zh-CN", viewport=viewport)
    # axe is injected by the browser itself, before any page script: the pages' own
    # Content-Security-Policy allows no script from anywhere but the site.
    await context.add_init_script(path=AXE)
    outside: list[str] = []

    async def only_the_site(route: Route) -> None:
        if route.request.url.startswith(site):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_the_site)
    return Visit(await context.new_page(), context, outside)


@pytest.fixture
async def phone(browser: Browser, site: str) -> AsyncIterator[Visit]:
    tab = await visit(browser, site, PHONE)
    yield tab
    await tab.context.close()


@pytest.fixture
async def desktop(browser: Browser, site: str) -> AsyncIterator[Visit]:
    tab = await visit(browser, site, DESKTOP)
    yield tab
    await tab.context.close()
