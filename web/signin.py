"""Signing in. In development a choice of the demo users (``DEV_SIGNIN_FILE``, the tokens
``make run`` writes); each token is verified as any other, so a page sees the claims the API
would. Without that file the identity platform's sign-in is the only way in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.problems import Problem
from contracts.people import Role
from web import csrf, oidc, session
from web.oidc import SigninFailed
from web.rendering import context_of, local_path, refused, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: Role
    claims: dict[str, Any]
    token: str

    @property
    def department(self) -> str | None:
        return self.claims.get("department")

    @property
    def region(self) -> str | None:
        return self.claims.get("region")


def demo_users(path: Path) -> dict[str, DemoUser]:
    """The users of a ``var/dev-tokens.json``: ``{"<user>": {"role", "claims", "token"}}``."""
    raw: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: DemoUser(name, Role(entry["role"]), dict(entry["claims"]), str(entry["token"]))
        for name, entry in raw.items()
    }


def landing(role: Role) -> str:
    """Where a person goes once signed in."""
    if role is Role.INDIVIDUAL:
        return "/my"
    if role is Role.CLERK:
        return "/clerk"
    if role in (Role.SUPERVISOR, Role.ADMIN):
        return "/supervisor"
    if role in (Role.EMPLOYER, Role.AGENCY):
        return "/employer"
    return "/"


def _demo(request: Request) -> dict[str, DemoUser] | None:
    path = context_of(request).settings.dev_signin_file
    return demo_users(path) if path is not None else None


@router.get("/signin", response_class=HTMLResponse, response_model=None)
async def signin_page(request: Request, back: Annotated[str, Query(alias="next")] = "") -> Response:
    """Development: a choice of the demo users. Otherwise the identity platform's sign-in."""
    users = _demo(request)
    if users is not None:
        return render(request, "signin.html", users=users.values(), back=local_path(back or "/"))
    if context_of(request).settings.oidc_issuer:
        try:
            return await oidc.start(request, back or "/")
        except (SigninFailed, httpx.HTTPError):
            return refused(request, 503, "signin.title", "signin.platform_unavailable")
    return refused(request, 503, "signin.title", "signin.not_configured")


@router.get("/signin/callback", name="signin_callback", response_model=None)
async def signin_callback(
    request: Request, code: str = "", state: str = "", error: str = ""
) -> Response:
    """Where the identity platform sends the person back (OpenID Connect)."""
    if not context_of(request).settings.oidc_issuer:
        return refused(request, 404, "errors.not_found_title", "errors.not_found")
    try:
        who, token, back = await oidc.finish(request, code, state, error)
    except SigninFailed as failed:
        return refused(request, 400, "signin.title", failed.key)
    except httpx.HTTPError:
        return refused(request, 503, "signin.title", "signin.platform_unavailable")
    target = back if back not in ("", "/") else landing(who.role)
    return oidc.signed_in_response(request, who, token, target)


@router.post("/signin", response_model=None)
def signin(
    request: Request,
    user: Annotated[str, Form()] = "",
    back: Annotated[str, Form(alias="next")] = "/",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    users = _demo(request)
    if users is None:
        return refused(request, 503, "signin.title", "signin.not_configured")
    chosen = users.get(user)
    if chosen is None:
        return refused(request, 400, "errors.bad_input_title", "signin.unknown_user")
    try:
        who = context_of(request).verifier.verify(chosen.token)  # as the API would
    except Problem:
        return refused(request, 401, "signin.title", "signin.expired")
    target = local_path(back) if back not in ("", "/") else landing(who.role)
    response = RedirectResponse(target, status_code=303)
    session.remember(request, response, chosen.token)
    return response


@router.post("/signout", response_model=None)
def signout(
    request: Request, token: Annotated[str | None, Form(alias=csrf.FIELD)] = None
) -> Response:
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    response = RedirectResponse("/", status_code=303)
    session.forget(response)
    return response
