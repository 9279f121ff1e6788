"""The FastAPI application: ``uvicorn api.app:app`` (settings from the environment)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import TokenVerifier
from api.deps import ApiContext
from api.devauth import ensure_dev_keys
from api.metrics import ApiMetrics, MetricsMiddleware
from api.problems import Problem, document_problems, install_problem_handlers
from api.routes import cases, codec, figures, health, messages, ratings, rules, tasks
from db.session import make_engine, make_sessionmaker, read_only
from policies import load_policy
from service.settings import Settings, get_settings
from service.temporal import connect, payload_codec

DEV_KEYS = Path("var") / "dev-keys"
# Swagger UI's files, served by the API itself: the province's network has no internet access,
# and FastAPI's default /docs page loads them from a public CDN (a blank page there).
SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"
SWAGGER_ASSETS = "/docs/assets"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def verifier_for(settings: Settings) -> TokenVerifier:
    if not settings.auth_dev_mode and settings.uses_dev_case_key:
        raise RuntimeError("set CASE_ID_KEY (or CASE_ID_KEY_FILE): the development key is public")
    if settings.auth_dev_mode:
        _, jwks = ensure_dev_keys(DEV_KEYS)
    elif settings.auth_jwks_file is not None:
        jwks = settings.auth_jwks_file
    else:
        raise RuntimeError("set AUTH_JWKS_FILE to the identity platform's public keys")
    return TokenVerifier.from_jwks_file(
        jwks,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        secret=settings.case_secret,
    )


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes (413) before the application reads them.

    A declared ``Content-Length`` is judged at once (the server holds the body to it). A body
    sent chunked declares nothing: it is read here, up to ``limit``, and handed on whole — an
    error raised from inside the application's own read would become its parser's 400."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or {}).get(b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.limit:
                await self._refuse(scope, send)
            else:
                await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break
        whole: list[Message] = [{"type": "http.request", "body": bytes(body), "more_body": False}]

        async def replay() -> Message:
            return whole.pop() if whole else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        problem = Problem(413, f"the request body is over {self.limit} bytes", "too-large")
        await problem.response(scope.get("path"))(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def create_app(
    settings: Settings | None = None,
    *,
    client: Client | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> FastAPI:
    """The app; tests pass their own Temporal client and database sessions."""
    config = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        session_factory = sessions
        if session_factory is None:
            engine = make_engine(config.database_url)
            session_factory = make_sessionmaker(engine)
        read_sessions = read_only(session_factory)
        metrics.watch_read_model(read_sessions)
        app.state.context = ApiContext(
            settings=config,
            client=client or await connect(config),
            sessions=session_factory,
            read_sessions=read_sessions,
            verifier=verifier_for(config),
            policy=load_policy(),
            sealer=payload_codec(config),
        )
        yield
        if engine is not None:
            engine.dispose()

    app = FastAPI(
        title="Retirement as one thing (退休一件事) API",
        version="1.0",
        description=(
            "Employers and archive agencies declare retirees and initiate the joint application; "
            "clerks decide their inbox; retirees follow their case; supervisors watch escalations. "
            "Authenticate with a bearer token from the identity platform. Errors are RFC 9457 "
            "problem details."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,  # ReDoc too loads from a CDN; Swagger UI is the one documentation page
    )
    _serve_docs(app)
    metrics = ApiMetrics()
    app.state.metrics = metrics
    install_problem_handlers(app)
    document_problems(app)

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        """Prometheus text format; aggregate counts only, no personal data."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    for module in (cases, messages, ratings, tasks, figures, rules, health, codec):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # The Temporal UI calls the codec endpoint from the browser.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=config.codec_cors_origins,
        allow_credentials=True,
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "X-Namespace"],
    )
    return app


def _serve_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the vendored files (``api/static/swagger-ui/VENDORED.md``)."""
    app.mount(SWAGGER_ASSETS, StaticFiles(directory=SWAGGER_UI), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
            # No badge that asks validator.swagger.io about the schema.
            swagger_ui_parameters={"validatorUrl": None},
        )


def __getattr__(name: str) -> Any:
    # ``uvicorn api.app:app`` builds the app on first access, with settings from the environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
