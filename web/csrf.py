"""CSRF protection for every form: a random token in an HTTP-only cookie, repeated in a hidden
field, compared on every POST (the double-submit pattern; the cookie is ``SameSite=Strict``, so
another site's page can neither send it nor read it)."""

from __future__ import annotations

import hmac
import re
import secrets

from fastapi import Request, Response

COOKIE = "csrf"
FIELD = "csrf"


def token_for(request: Request) -> str:
    """The caller's token: the cookie's, or a new one (``remember`` sets it on the response)."""
    current = request.cookies.get(COOKIE, "")
    return current if _well_formed(current) else secrets.token_urlsafe(32)


def remember(request: Request, response: Response, token: str) -> None:
    if request.cookies.get(COOKIE) != token:
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


def valid(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    return (
        _well_formed(cookie)
        and submitted is not None
        and hmac.compare_digest(cookie.encode(), submitted.encode())
    )


def _well_formed(token: str) -> bool:
    return 32 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


# Every form that acts carries a fresh key (rendered with the form), sent to the API as the
# request's idempotency key: a form sent twice (a double click, a reload) is applied once.
_FORM_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,90}$")


def form_key_ok(key: str) -> bool:
    return _FORM_KEY.match(key) is not None
