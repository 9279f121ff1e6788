"""The pages' routes. Pages are not part of the API's OpenAPI schema; they read what the API
reads and will act through the same gateway."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ApiContext
from api.problems import Problem
from api.queries import CaseFilter, search_cases
from api.schemas import CaseSummary
from api.workflow_gateway import snapshot_of
from contracts.people import Role
from contracts.workflow import Stage
from domain.timeline import CHINA_TZ
from service.settings import Settings
from web import csrf, session
from web.guide import Guide
from web.preferences import CONTRASTS, TEXT_SIZES, Display
from web.rendering import render
from web.signin import DemoUser, demo_users, landing

router = APIRouter(include_in_schema=False)


def _guide(request: Request) -> Guide:
    guide: Guide = request.app.state.guide
    return guide


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", figures=_guide(request).figures)


@router.get("/guide", response_class=HTMLResponse)
def guide(request: Request) -> HTMLResponse:
    return render(request, "guide.html", guide=_guide(request))


def local_path(target: str) -> str:
    """``target`` if it is a path on this site, else the home page (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.post("/preferences", response_model=None)
def preferences(
    request: Request,
    text: Annotated[str, Form()] = "normal",
    contrast: Annotated[str, Form()] = "normal",
    back: Annotated[str, Form(alias="next")] = "/",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    if not csrf.valid(request, token):
        return _refused(request, 403, "errors.csrf_title", "errors.csrf")
    if text not in TEXT_SIZES or contrast not in CONTRASTS:
        return _refused(request, 400, "errors.bad_input_title", "errors.bad_preference")
    response = RedirectResponse(local_path(back), status_code=303)
    Display(text=text, contrast=contrast).keep(request, response)
    return response


# ---- Signing in --------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    ctx: ApiContext = request.app.state.context
    return ctx.settings


def _demo(request: Request) -> dict[str, DemoUser] | None:
    path = _settings(request).dev_signin_file
    return demo_users(path) if path is not None else None


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, back: Annotated[str, Query(alias="next")] = "") -> HTMLResponse:
    users = _demo(request)
    if users is None:
        return _refused(request, 503, "signin.title", "signin.not_configured")
    return render(request, "signin.html", users=users.values(), back=local_path(back or "/"))


@router.post("/signin", response_model=None)
def signin(
    request: Request,
    user: Annotated[str, Form()] = "",
    back: Annotated[str, Form(alias="next")] = "/",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    if not csrf.valid(request, token):
        return _refused(request, 403, "errors.csrf_title", "errors.csrf")
    users = _demo(request)
    if users is None:
        return _refused(request, 503, "signin.title", "signin.not_configured")
    chosen = users.get(user)
    if chosen is None:
        return _refused(request, 400, "errors.bad_input_title", "signin.unknown_user")
    ctx: ApiContext = request.app.state.context
    try:
        who = ctx.verifier.verify(chosen.token)  # as the API would: the same claims
    except Problem:
        return _refused(request, 401, "signin.title", "signin.expired")
    target = local_path(back) if back not in ("", "/") else landing(who.role)
    response = RedirectResponse(target, status_code=303)
    session.remember(request, response, chosen.token)
    return response


@router.post("/signout", response_model=None)
def signout(
    request: Request, token: Annotated[str | None, Form(alias=csrf.FIELD)] = None
) -> Response:
    if not csrf.valid(request, token):
        return _refused(request, 403, "errors.csrf_title", "errors.csrf")
    response = RedirectResponse("/", status_code=303)
    session.forget(response)
    return response


def _refused(request: Request, status: int, title_key: str, message_key: str) -> HTMLResponse:
    """An error page: ``title_key`` and ``message_key`` name the catalogue's words."""
    return render(
        request, "error.html", status=status, title_key=title_key, message_key=message_key
    )


def _signin_first(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)


# ---- The retiree ------------------------------------------------------------------------------


@router.get("/my", response_class=HTMLResponse, response_model=None)
async def my_case(request: Request, case: str | None = None) -> Response:
    """A retiree's own case: the nine items, the timeline, what is expected of whom next, the
    results. ``case`` picks one of their cases (the open one, or the newest, otherwise)."""
    who = session.signed_in(request)
    if who is None:
        return _signin_first(request)
    if who.role is not Role.INDIVIDUAL or who.person_key is None:
        return _refused(request, 403, "signin.title", "my.individuals_only")
    ctx: ApiContext = request.app.state.context

    def read() -> list[CaseSummary]:
        with ctx.read_sessions() as db:
            where = CaseFilter(person_key=who.person_key)
            return search_cases(db, where, limit=20, offset=0).items

    cases = await asyncio.to_thread(read)
    if not cases:
        return render(request, "my.html", snapshot=None, cases=[], policy=ctx.policy)
    chosen = next((c for c in cases if c.case_id == case), None) if case else None
    if case and chosen is None:
        return _refused(request, 404, "errors.not_found_title", "errors.not_found")
    chosen = chosen or _current(cases)
    snapshot = await snapshot_of(ctx, chosen.case_id)
    others = [c for c in cases if c.case_id != chosen.case_id]
    return render(
        request,
        "my.html",
        snapshot=snapshot,
        cases=others,
        policy=ctx.policy,
        today=datetime.now(CHINA_TZ).date(),
    )


def _current(cases: list[CaseSummary]) -> CaseSummary:
    """The case a retiree most likely means: an open one, else the last to change."""
    open_cases = [c for c in cases if not Stage(c.stage).terminal]
    return max(open_cases or cases, key=lambda c: c.updated_at)
