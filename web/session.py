"""Who is signed in: the identity platform's token, kept in an HTTP-only cookie and verified on
every request by the API's own verifier, so a page knows exactly the claims the API checks."""

from __future__ import annotations

from fastapi import Request, Response

from api.auth import Principal
from api.deps import ApiContext
from api.problems import Problem

COOKIE = "session"


def signed_in(request: Request) -> Principal | None:
    """The caller, or None (no cookie, or a token no longer valid: expired, another issuer).
    Verified once per request: the route and the page it renders both ask."""
    if hasattr(request.state, "principal"):
        known: Principal | None = request.state.principal
        return known
    token = request.cookies.get(COOKIE)
    who = None
    if token:
        ctx: ApiContext = request.app.state.context
        try:
            who = ctx.verifier.verify(token)
        except Problem:
            who = None
    request.state.principal = who
    return who


def remember(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",  # sent when a person follows a link here, never with another site's POST
        secure=request.url.scheme == "https",
        path="/",
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
