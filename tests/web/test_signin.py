"""Signing in with a demo user (development), out again, and what a page does for a visitor who
is not signed in, or not the person it is for."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from service.settings import Settings
from tests.web.conftest import People
from web.app import create_app
from web.messages import messages


async def _signed_in(http: httpx.AsyncClient, user: str, next_page: str = "/") -> httpx.Response:
    await http.get("/signin")
    data = {"csrf": http.cookies["csrf"], "user": user, "next": next_page}
    return await http.post("/signin", data=data)


async def test_the_page_offers_each_demo_user(http: httpx.AsyncClient) -> None:
    page = await http.get("/signin")
    assert page.status_code == 200
    t = messages()
    assert t("signin.dev_title") in page.text
    for user in ("retiree", "employer", "clerk-hr"):
        assert f'name="user" value="{user}"' in page.text
    assert t("department.hr") in page.text


async def test_a_retiree_lands_on_her_case_page_and_signs_out(http: httpx.AsyncClient) -> None:
    answer = await _signed_in(http, "retiree")
    assert (answer.status_code, answer.headers["location"]) == (303, "/my")
    assert "httponly" in answer.headers["set-cookie"].lower()
    page = await http.get("/my")
    assert page.status_code == 200
    t = messages()
    assert t("signin.signed_in_as", who=t("role.individual")) in page.text
    assert t("my.no_case") in page.text  # nothing declared for her in this module's service
    out = await http.post("/signout", data={"csrf": http.cookies["csrf"]})
    assert (out.status_code, out.headers["location"]) == (303, "/")
    assert (await http.get("/my")).status_code == 303


async def test_it_returns_to_the_page_asked_for(http: httpx.AsyncClient) -> None:
    first = await http.get("/my")
    assert (first.status_code, first.headers["location"]) == (303, "/signin?next=/my")
    answer = await _signed_in(http, "retiree", next_page="/guide")
    assert answer.headers["location"] == "/guide"
    answer = await _signed_in(http, "retiree", next_page="//evil.example/")
    assert answer.headers["location"] == "/"


async def test_refusals_say_why_in_chinese_and_sign_no_one_in(http: httpx.AsyncClient) -> None:
    t = messages()
    await http.get("/signin")
    token = http.cookies["csrf"]
    for data, status, message in (
        ({"user": "retiree"}, 403, "errors.csrf"),
        ({"user": "nobody", "csrf": token}, 400, "signin.unknown_user"),
        ({"user": "", "csrf": token}, 400, "signin.unknown_user"),
    ):
        refused = await http.post("/signin", data=data)
        assert refused.status_code == status
        assert t(message) in refused.text
        assert "session=" not in refused.headers.get("set-cookie", "")
    assert (await http.get("/my")).status_code == 303


async def test_the_retiree_page_is_the_retirees(http: httpx.AsyncClient) -> None:
    await _signed_in(http, "employer")
    refused = await http.get("/my")
    assert refused.status_code == 403
    assert messages()("my.individuals_only") in refused.text


async def test_a_forged_or_stale_session_is_no_session(
    http: httpx.AsyncClient, people: tuple[People, Path, Path]
) -> None:
    token = people[0].tokens["retiree"]
    for forged in ("not-a-token", token[:-4] + "AAAA"):
        http.cookies.set("session", forged, domain="pages.test")
        answer = await http.get("/my")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")


async def test_without_the_demo_users_sign_in_says_it_is_not_configured(
    web_settings: Settings,
) -> None:
    app: FastAPI = create_app(web_settings.model_copy(update={"dev_signin_file": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pages.test") as http:
            page = await http.get("/signin")
            assert page.status_code == 503
            assert messages()("signin.not_configured") in page.text
            await http.get("/")
            posted = await http.post(
                "/signin", data={"csrf": http.cookies["csrf"], "user": "retiree"}
            )
            assert posted.status_code == 503
