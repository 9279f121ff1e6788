"""The province's unified identity platform, simulated (统一身份认证): an OpenID Connect provider
for the authorization code flow with PKCE (S256), under ``/identity`` of the simulator.

- ``/.well-known/openid-configuration``, ``/jwks``: discovery and the signing keys;
- ``/authorize``: the platform's sign-in page; a right user name and password send the browser
  back to the registered ``redirect_uri`` with a one-time code (60 seconds);
- ``/token``: the code and its ``code_verifier`` for an access token (for the client's
  ``audience``, carrying the account's claims: what the service's API checks) and an ID token
  (for the client, with the ``nonce``);
- ``/admin/clients/{id}``, ``/admin/accounts/{user}``: registrations, behind the admin token.

What it knows lives in memory: clients and accounts are registered again after a restart.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jwt.algorithms import RSAAlgorithm
from pydantic import BaseModel, Field

KEY_ID = "identity-sim-1"
CODE_TTL = 60.0
TOKEN_TTL = 3600


class Client(BaseModel):
    redirect_uris: list[str] = Field(min_length=1)
    audience: str = Field(description="the audience of the access tokens it receives")


class Account(BaseModel):
    password: str = Field(min_length=1)
    claims: dict[str, Any] = Field(description="what its access tokens carry besides iss, aud, exp")


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    user: str
    expires: float


class Provider:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.clients: dict[str, Client] = {}
        self.accounts: dict[str, Account] = {}
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": KEY_ID, "alg": "RS256", "use": "sig"})
        return {"keys": [public]}

    def issue_code(self, code: _Code) -> str:
        value = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[value] = code
        return value

    def redeem(self, value: str) -> _Code | None:
        """The code's grant, once: a second redemption finds nothing."""
        with self._lock:
            code = self._codes.pop(value, None)
        return code if code is not None and code.expires > time.monotonic() else None

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KEY_ID})


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _error(code: str, description: str, status_code: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=status_code)


_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>吉林省统一身份认证平台（模拟）</title></head><body><main>
<h1>吉林省统一身份认证平台（模拟）</h1>{message}
<form method="post" action="authorize">{hidden}
<p><label for="username">用户名</label><br>
<input id="username" name="username" autocomplete="username"></p>
<p><label for="password">密码</label><br>
<input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit">登录</button></p></form></main></body></html>"""

AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "state", "code_challenge", "nonce", "scope")


def identity_app(admin: Callable[[Request], None]) -> FastAPI:
    provider = Provider()
    app = FastAPI(title="identity platform (simulated)", docs_url=None, redoc_url=None)
    app.state.provider = provider
    guarded = [Depends(admin)]

    def issuer(request: Request) -> str:
        root: str = request.scope.get("root_path", "")
        return f"{request.url.scheme}://{request.url.netloc}{root}"

    @app.get("/.well-known/openid-configuration")
    def discovery(request: Request) -> dict[str, Any]:
        base = issuer(request)
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return provider.jwks()

    def checked_client(client_id: str, redirect_uri: str) -> Client:
        client = provider.clients.get(client_id)
        if client is None or redirect_uri not in client.redirect_uris:
            # Never redirect to an address the client did not register.
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "unknown client or redirect_uri")
        return client

    def page(params: dict[str, str], message: str = "", status_code: int = 200) -> HTMLResponse:
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(params.get(name, ""))}">'
            for name in AUTHORIZE_PARAMS
        )
        shown = f'<p role="alert">{html.escape(message)}</p>' if message else ""
        return HTMLResponse(_PAGE.format(message=shown, hidden=hidden), status_code=status_code)

    @app.get("/authorize", response_class=HTMLResponse, response_model=None)
    def authorize_page(request: Request) -> Response:
        params = dict(request.query_params)
        checked_client(params.get("client_id", ""), params.get("redirect_uri", ""))
        if params.get("response_type") != "code":
            return _back(params, "unsupported_response_type")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return _back(params, "invalid_request")  # PKCE (S256) is required
        return page(params)

    @app.post("/authorize", response_model=None)
    def authorize(
        client_id: Annotated[str, Form()] = "",
        redirect_uri: Annotated[str, Form()] = "",
        state: Annotated[str, Form()] = "",
        code_challenge: Annotated[str, Form()] = "",
        nonce: Annotated[str, Form()] = "",
        scope: Annotated[str, Form()] = "",
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
    ) -> Response:
        params = {
            "client_id": client_id, "redirect_uri": redirect_uri, "state": state,
            "code_challenge": code_challenge, "nonce": nonce, "scope": scope,
        }  # fmt: skip
        checked_client(client_id, redirect_uri)
        account = provider.accounts.get(username)
        if account is None or not secrets.compare_digest(
            account.password.encode(), password.encode()
        ):
            return page(params, "用户名或密码不正确。", status.HTTP_401_UNAUTHORIZED)
        code = provider.issue_code(
            _Code(
                client_id,
                redirect_uri,
                code_challenge,
                nonce,
                username,
                time.monotonic() + CODE_TTL,
            )
        )
        return RedirectResponse(
            f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=303
        )

    @app.post("/token", response_model=None)
    def token(
        request: Request,
        grant_type: Annotated[str, Form()] = "",
        code: Annotated[str, Form()] = "",
        redirect_uri: Annotated[str, Form()] = "",
        client_id: Annotated[str, Form()] = "",
        code_verifier: Annotated[str, Form()] = "",
    ) -> Response:
        if grant_type != "authorization_code":
            return _error("unsupported_grant_type", "only authorization_code")
        grant = provider.redeem(code)
        if grant is None:
            return _error("invalid_grant", "unknown, used or expired code")
        if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
            return _error("invalid_grant", "the code was issued to another client or redirect_uri")
        if not 43 <= len(code_verifier) <= 128 or not secrets.compare_digest(
            _s256(code_verifier), grant.challenge
        ):
            return _error("invalid_grant", "code_verifier does not match the code_challenge")
        client = provider.clients[client_id]
        account = provider.accounts[grant.user]
        now = int(time.time())
        base = {"iss": issuer(request), "sub": account.claims.get("sub", grant.user), "iat": now}
        access = provider.sign(
            {**account.claims, **base, "aud": client.audience, "exp": now + TOKEN_TTL}
        )
        identity = provider.sign(
            {**base, "aud": client_id, "exp": now + TOKEN_TTL, "nonce": grant.nonce}
        )
        return JSONResponse(
            {
                "access_token": access,
                "id_token": identity,
                "token_type": "Bearer",
                "expires_in": TOKEN_TTL,
            },
            headers={"Cache-Control": "no-store"},
        )

    @app.put("/admin/clients/{client_id}", status_code=204, dependencies=guarded)
    def put_client(client_id: str, client: Client) -> None:
        provider.clients[client_id] = client

    @app.put("/admin/accounts/{username}", status_code=204, dependencies=guarded)
    def put_account(username: str, account: Account) -> None:
        provider.accounts[username] = account

    return app


def _back(params: dict[str, str], error: str) -> RedirectResponse:
    """An error for the client, at its (registered) redirect_uri."""
    query = urlencode({"error": error, "state": params.get("state", "")})
    return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=303)
