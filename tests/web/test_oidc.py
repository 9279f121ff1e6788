"""Signing in through the identity platform (the simulator's OpenID Connect provider, its own
process): authorization code with PKCE, the state and nonce checked, the code good once, and the
session carrying the claims the API checks."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.async_api import Browser
from temporalio.testing import WorkflowEnvironment

from harness.department_simulator import DepartmentSimulator
from harness.scratch import sqlite_database
from service.settings import Settings
from tests.support.people import new_id_number
from tests.support.served import served
from tests.web.conftest import visit
from web.app import create_app
from web.messages import messages
from web.oidc import Flow, _seal, _unseal

CLIENT = "retirement-web"
AUDIENCE = "retirement-api"
PASSWORD = "correct-horse-7"  # noqa: S105 - a simulator account's


@pytest.fixture(scope="module")
async def platform_site(
    tmp_path_factory: pytest.TempPathFactory,
    dev_server: WorkflowEnvironment,
    departments: DepartmentSimulator,
) -> AsyncIterator[tuple[str, str]]:
    """The service trusting the identity platform, served: (its URL, the retiree's user name)."""
    folder = tmp_path_factory.mktemp("oidc")
    jwks = folder / "platform-jwks.json"
    jwks.write_text(json.dumps(departments.identity_jwks()), encoding="utf-8")
    with sqlite_database(folder) as url:
        settings = Settings(
            database_url=url,
            temporal_address=dev_server.client.service_client.config.target_host,
            temporal_task_queue=f"oidc-{uuid.uuid4().hex[:8]}",
            auth_issuer=departments.identity_url,
            auth_audience=AUDIENCE,
            auth_jwks_file=jwks,
            oidc_issuer=departments.identity_url,
            oidc_client_id=CLIENT,
            case_id_key=uuid.uuid4().hex,
        )
        async with served(create_app(settings)) as site:
            departments.register_client(CLIENT, [f"{site}/signin/callback"], AUDIENCE)
            user = f"wang-{uuid.uuid4().hex[:6]}"
            claims = {"sub": user, "role": "individual", "id_number": new_id_number(1966, 3)}
            departments.register_account(user, PASSWORD, claims)
            yield site, user


async def _to_callback(http: httpx.AsyncClient, user: str, password: str) -> httpx.Response:
    """/signin, the platform's page and its form, as a browser would: the platform's answer."""
    start = await http.get("/signin", params={"next": "/my"})
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    query = parse_qs(urlparse(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    page = await http.get(authorize)
    assert page.status_code == 200
    fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    form_url = authorize.split("?")[0]
    return await http.post(form_url, data={**fields, "username": user, "password": password})


async def test_the_code_flow_with_pkce_signs_a_person_in_once(
    platform_site: tuple[str, str],
) -> None:
    site, user = platform_site
    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        wrong = await _to_callback(http, user, "wrong")
        assert wrong.status_code == 401  # the platform's own page says so
        back = await _to_callback(http, user, PASSWORD)
        assert back.status_code == 303
        callback = back.headers["location"]
        assert callback.startswith(f"{site}/signin/callback?")
        flow_cookie = http.cookies.get("oidc_flow")
        signed = await http.get(callback)
        assert (signed.status_code, signed.headers["location"]) == (303, "/my")
        assert "session=" in signed.headers["set-cookie"]
        my_page = await http.get("/my")
        assert my_page.status_code == 200
        assert messages()("my.no_case") in my_page.text

        # The same code again, even with the flow's cookie put back: refused by the platform.
        http.cookies.set("oidc_flow", flow_cookie or "", path="/signin")
        again = await http.get(callback)
        assert again.status_code == 400
        assert messages()("signin.code_refused") in again.text


async def test_a_callback_not_from_this_browsers_sign_in_is_refused(
    platform_site: tuple[str, str],
) -> None:
    site, user = platform_site
    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        back = await _to_callback(http, user, PASSWORD)
        callback = back.headers["location"]
    # Another browser (no flow cookie) following the link: refused, no session.
    async with httpx.AsyncClient(base_url=site, timeout=30) as other:
        refused = await other.get(callback)
        assert refused.status_code == 400
        assert messages()("signin.flow_lost") in refused.text
        assert "session=" not in refused.headers.get("set-cookie", "")
    # A state that is not the one sent: refused.
    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        back = await _to_callback(http, user, PASSWORD)
        forged = re.sub(r"state=[^&]+", "state=forged", back.headers["location"])
        refused = await http.get(forged)
        assert refused.status_code == 400
        assert messages()("signin.flow_lost") in refused.text


async def test_the_platform_requires_the_verifier(
    platform_site: tuple[str, str], departments: DepartmentSimulator
) -> None:
    site, user = platform_site
    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        back = await _to_callback(http, user, PASSWORD)
        code = parse_qs(urlparse(back.headers["location"]).query)["code"][0]
        refused = await http.post(
            f"{departments.identity_url}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": f"{site}/signin/callback",
                "client_id": CLIENT,
                "code_verifier": "x" * 50,  # not the one whose challenge was sent
            },
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


async def test_a_person_signs_in_at_the_platform_in_the_browser(
    browser: Browser, platform_site: tuple[str, str], departments: DepartmentSimulator
) -> None:
    site, user = platform_site
    tab = await visit(browser, site, {"width": 390, "height": 844}, also=(departments.url,))
    try:
        await tab.page.goto("/signin?next=/my")
        await tab.page.get_by_label("用户名").fill(user)
        await tab.page.get_by_label("密码").fill(PASSWORD)
        async with tab.page.expect_navigation(url=f"{site}/my"):
            await tab.page.get_by_role("button", name="登录").click()
        assert messages()("my.no_case") in await tab.page.locator("main").inner_text()
        cookies = {c["name"]: c for c in await tab.context.cookies()}
        assert cookies["session"]["httpOnly"] is True
        assert await tab.axe_violations() == []
        assert tab.outside == []
    finally:
        await tab.context.close()


def test_the_flow_cookie_is_signed() -> None:
    flow = Flow(state="s", verifier="v" * 64, nonce="n", back="/my")
    sealed = _seal(flow, b"secret")
    assert _unseal(sealed, b"secret") == flow
    assert _unseal(sealed, b"another") is None
    body, mac = sealed.rsplit(".", 1)
    assert _unseal(body[:-2] + "AA." + mac, b"secret") is None
