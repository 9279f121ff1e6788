"""Signing in through the province's identity platform: OpenID Connect, authorization code flow
with PKCE (S256).

``/signin`` sends the browser to the platform with a fresh ``state``, ``nonce`` and code
challenge; the verifier and the rest wait in a short-lived, HMAC-signed, HTTP-only cookie.
``/signin/callback`` checks the state, redeems the code with the verifier, checks the ID token's
signature, audience and nonce, and verifies the access token with the API's own verifier — the
session then carries exactly the claims the API checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.auth import Principal
from api.problems import Problem
from service.settings import Settings
from web import session
from web.rendering import context_of, local_path

FLOW_COOKIE = "oidc_flow"
FLOW_SECONDS = 600  # the person has ten minutes at the platform's sign-in page
TIMEOUT = httpx.Timeout(10.0)


class SigninFailed(Exception):
    """The sign-in could not be completed; ``key`` names the catalogue's words for why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Flow:
    state: str
    verifier: str
    nonce: str
    back: str


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _seal(flow: Flow, secret: bytes) -> str:
    body = base64.urlsafe_b64encode(json.dumps(flow.__dict__).encode()).decode()
    mac = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _unseal(value: str, secret: bytes) -> Flow | None:
    body, _, mac = value.rpartition(".")
    expected = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(mac, expected):
        return None
    try:
        return Flow(**json.loads(base64.urlsafe_b64decode(body)))
    except (ValueError, TypeError):
        return None


def redirect_uri(request: Request, settings: Settings) -> str:
    return settings.oidc_redirect_url or str(request.url_for("signin_callback"))


async def _discovery(request: Request, issuer: str) -> dict[str, Any]:
    """The platform's discovery document, fetched once per process."""
    cached: dict[str, Any] | None = getattr(request.app.state, "oidc_discovery", None)
    if cached is None:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            answer = await http.get(f"{issuer}/.well-known/openid-configuration")
        if answer.status_code != 200:
            raise SigninFailed("signin.platform_unavailable")
        cached = answer.json()
        if cached.get("issuer") != issuer:
            raise SigninFailed("signin.platform_unavailable")
        request.app.state.oidc_discovery = cached
    return cached


async def start(request: Request, back: str) -> Response:
    """To the platform's sign-in page."""
    settings = context_of(request).settings
    issuer = settings.oidc_issuer or ""
    found = await _discovery(request, issuer)
    flow = Flow(
        state=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),
        nonce=secrets.token_urlsafe(16),
        back=local_path(back),
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": redirect_uri(request, settings),
            "scope": "openid",
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": _challenge(flow.verifier),
            "code_challenge_method": "S256",
        }
    )
    response = RedirectResponse(f"{found['authorization_endpoint']}?{query}", status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        _seal(flow, settings.case_secret),
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="lax",  # it must come back with the platform's redirect (a top-level GET)
        secure=request.url.scheme == "https",
        path="/signin",
    )
    return response


async def finish(request: Request, code: str, state: str, error: str) -> tuple[Principal, str, str]:
    """The signed-in person, their access token and where to go; or ``SigninFailed``."""
    ctx = context_of(request)
    settings = ctx.settings
    flow = _unseal(request.cookies.get(FLOW_COOKIE, ""), settings.case_secret)
    if flow is None or not state or not hmac.compare_digest(flow.state, state):
        raise SigninFailed("signin.flow_lost")
    if error or not code:
        raise SigninFailed("signin.denied")
    found = await _discovery(request, settings.oidc_issuer or "")
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        answer = await http.post(
            found["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri(request, settings),
                "client_id": settings.oidc_client_id,
                "code_verifier": flow.verifier,
            },
        )
        if answer.status_code != 200:
            raise SigninFailed("signin.code_refused")
        tokens = answer.json()
        keys = (await http.get(found["jwks_uri"])).json()
    _check_id_token(str(tokens.get("id_token", "")), keys, found["issuer"], settings, flow)
    access = str(tokens.get("access_token", ""))
    try:
        who = ctx.verifier.verify(access)
    except Problem:
        raise SigninFailed("signin.token_refused") from None
    return who, access, flow.back


def _check_id_token(
    token: str, keys: dict[str, Any], issuer: str, settings: Settings, flow: Flow
) -> None:
    try:
        header = jwt.get_unverified_header(token)
        key = next(k for k in jwt.PyJWKSet.from_dict(keys).keys if k.key_id == header.get("kid"))
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256", "ES256"],
            audience=settings.oidc_client_id,
            issuer=issuer,
            options={"require": ["exp", "iss", "aud", "nonce"]},
        )
    except (jwt.PyJWTError, StopIteration):
        raise SigninFailed("signin.token_refused") from None
    if not hmac.compare_digest(str(claims["nonce"]), flow.nonce):
        raise SigninFailed("signin.token_refused")


def signed_in_response(request: Request, who: Principal, token: str, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    session.remember(request, response, token)
    response.delete_cookie(FLOW_COOKIE, path="/signin")
    return response
