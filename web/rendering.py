"""Rendering a page: the Jinja2 templates with the catalogue, the caller's display preferences,
their CSRF token and the headers every page carries."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from web import csrf
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
