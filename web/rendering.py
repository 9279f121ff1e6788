"""Rendering a page: the Jinja2 templates with the catalogue, the caller's display preferences,
their CSRF token and the headers every page carries."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.auth import Principal
from api.deps import ApiContext
from api.problems import Problem
from api.workflow_gateway import case_facts, may_view, snapshot_of
from contracts.workflow import CaseSnapshot
from web import csrf
from web.consequences import consequence
from web.formatting import FILTERS
from web.messages import messages
from web.preferences import Display
from web.session import signed_in

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
STATIC_URL = "/static"

# Nothing but this origin: no script, style, font or image from elsewhere (the government
# network has no internet), no inline script, no framing, forms post only here.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@cache
def _asset_version(name: str) -> str:
    """A short hash of a static file, so a changed file is fetched again (``?v=``)."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    return f"{STATIC_URL}/{name}?v={_asset_version(name)}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a misspelt variable fails the page's test, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = messages()
    env.globals["static"] = static_url
    env.filters.update(FILTERS)
    env.globals["consequence"] = consequence
    return env


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """``template`` with ``context``, the caller's display preferences, CSRF token and who is
    signed in (``web.session``)."""
    token = csrf.token_for(request)
    display = Display.of(request)
    html = (
        environment()
        .get_template(template)
        .render(
            request_path=request.url.path,
            csrf_field=csrf.FIELD,
            csrf_token=token,
            display=display,
            who=signed_in(request),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    csrf.remember(request, response, token)
    return response


def refused(request: Request, status: int, title_key: str, message_key: str) -> HTMLResponse:
    """An error page: ``title_key`` and ``message_key`` name the catalogue's words."""
    return render(
        request, "error.html", status=status, title_key=title_key, message_key=message_key
    )


def local_path(target: str) -> str:
    """``target`` if it is a path on this site, else the home page (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def signin_first(request: Request) -> RedirectResponse:
    """To the sign-in page, which returns here afterwards."""
    return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)


def context_of(request: Request) -> ApiContext:
    """What the API built at start-up: settings, Temporal client, sessions, verifier, policy."""
    ctx: ApiContext = request.app.state.context
    return ctx


def problem_key(problem: Problem) -> str:
    """The catalogue's words for a refusal the API made (``problem.<slug>``)."""
    key = f"problem.{problem.slug}"
    return key if key in messages().known_keys() else "problem.other"


def problem_page(request: Request, problem: Problem) -> HTMLResponse:
    """An error page for a refusal the API made, with its status."""
    return refused(request, problem.status, "errors.action_title", problem_key(problem))


async def viewable_case(
    request: Request, who: Principal, case_id: str, forbidden_key: str
) -> CaseSnapshot | Response:
    """The case as the read model has it, if ``who`` may see it; else the page to answer with
    (404 for no such case, 403 with ``forbidden_key``)."""
    ctx = context_of(request)
    try:
        facts = await case_facts(ctx, case_id)
    except Problem:
        return refused(request, 404, "errors.not_found_title", "errors.not_found")
    if not may_view(who, facts):
        return refused(request, 403, "signin.title", forbidden_key)
    return await snapshot_of(ctx, case_id)


def created_case_id(answer: JSONResponse) -> str:
    """The case id in the API's answer to a declaration."""
    return str(json.loads(bytes(answer.body))["case_id"])
