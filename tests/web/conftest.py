"""The service with its pages: in-process for HTTP checks, served by uvicorn for the browser, and
Debian's chromium driven by Playwright with every request off this machine refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
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

from adapters.departments import Platform
from api.devauth import ensure_dev_keys, mint
from db.session import make_engine, make_sessionmaker
from harness.browser import ChromiumMissing, launch
from harness.scratch import sqlite_database
from service.settings import DEV_ISSUER, Settings
from tests.support.people import REGION, new_id_number
from tests.support.served import served
from web.app import create_app
from worker import DepartmentSystems, build_worker, ensure_dispatcher

AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
AUDIENCE = "retirement-api"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class People:
    """The module's demo users (its ``DEV_SIGNIN_FILE``): a retiree, her employer's officer and
    a clerk of each department that decides, with their tokens."""

    tokens: dict[str, str]
    retiree_id_number: str
    organisation: str

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


CLERK_DEPARTMENTS = ("hr", "social-insurance", "medical-security", "provident-fund")


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> tuple[People, Path, Path]:
    """The users, and the signing key and JWKS their tokens are signed with."""
    folder = tmp_path_factory.mktemp("people")
    private, jwks = ensure_dev_keys(folder / "keys")
    organisation = f"emp-web-{uuid.uuid4().hex[:6]}"
    id_number = new_id_number(1980, 1, female=True)
    claims: dict[str, dict[str, Any]] = {
        "retiree": {"sub": "web-retiree", "role": "individual", "id_number": id_number},
        "employer": {"sub": "web-officer", "role": "employer", "organisation": organisation},
        **{
            f"clerk-{d}": {"sub": f"web-{d}", "role": "clerk", "department": d, "region": REGION}
            for d in CLERK_DEPARTMENTS
        },
        # The city's HR supervisor: her region (长春市) covers the clerks' county.
        "supervisor-hr": {
            "sub": "web-supervisor",
            "role": "supervisor",
            "department": "hr",
            "region": REGION[:4] + "00",
        },
    }
    minted = {
        user: mint(private, issuer=DEV_ISSUER, audience=AUDIENCE, claims=c)
        for user, c in claims.items()
    }
    signin_file = folder / "dev-tokens.json"
    signin_file.write_text(
        json.dumps(
            {u: {"role": c["role"], "claims": c, "token": minted[u]} for u, c in claims.items()}
        ),
        encoding="utf-8",
    )
    return People(minted, id_number, organisation), jwks, signin_file


@pytest.fixture(scope="module")
def web_settings(
    tmp_path_factory: pytest.TempPathFactory,
    dev_server: WorkflowEnvironment,
    people: tuple[People, Path, Path],
) -> Settings:
    folder = tmp_path_factory.mktemp("web")
    _, jwks, signin_file = people
    with sqlite_database(folder) as url:
        return Settings(
            database_url=url,
            temporal_address=dev_server.client.service_client.config.target_host,
            temporal_task_queue=f"web-{uuid.uuid4().hex[:8]}",
            auth_issuer=DEV_ISSUER,
            auth_audience=AUDIENCE,
            auth_jwks_file=jwks,
            dev_signin_file=signin_file,
            case_id_key=uuid.uuid4().hex,
        )


@pytest.fixture(scope="module")
async def worker(
    web_settings: Settings, dev_server: WorkflowEnvironment, platform: Platform
) -> AsyncIterator[None]:
    """The worker for the module's cases, its department steps over HTTP to the simulator, and
    the outbox's dispatcher sending their messages."""
    engine = make_engine(web_settings.database_url)
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            running = build_worker(
                dev_server.client,
                web_settings.temporal_task_queue,
                DepartmentSystems.over(platform, make_sessionmaker(engine), web_settings),
                executor,
            )
            async with running:
                dispatch = await ensure_dispatcher(dev_server.client, web_settings)
                yield
                await dev_server.client.get_workflow_handle(dispatch).terminate("module over")
    finally:
        engine.dispose()


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


async def visit(
    browser: Browser, site: str, viewport: ViewportSize, *, also: tuple[str, ...] = ()
) -> Visit:
    """A tab on ``site``; requests anywhere else but ``also`` are refused and recorded."""
    context = await browser.new_context(base_url=site, locale="zh-CN", viewport=viewport)
    # axe is injected by the browser itself, before any page script: the pages' own
    # Content-Security-Policy allows no script from anywhere but the site.
    await context.add_init_script(path=AXE)
    outside: list[str] = []

    async def only_the_site(route: Route) -> None:
        if route.request.url.startswith((site, *also)):
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
