"""The API in-process over a time-skipping Temporal server, a worker whose department steps go
over signed HTTP to the department simulator (its own process), and signed tokens for every kind
of caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from adapters.departments import Platform
from api.app import create_app
from api.devauth import ensure_dev_keys, mint
from db.session import make_engine, make_sessionmaker
from harness.binaries import temporal_test_server
from harness.department_simulator import DepartmentSimulator
from service.settings import Settings
from service.temporal import DATA_CONVERTER
from worker import DepartmentSystems, build_worker

ISSUER = "https://idp.test.retirement.local"
AUDIENCE = "retirement-api"
REGION = "220102"
EMPLOYER = "emp-api-1"


@pytest.fixture(scope="session")
async def api_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=temporal_test_server()
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ensure_dev_keys(tmp_path_factory.mktemp("keys"))


def mint_token(private_key: Path, **claims: Any) -> str:
    """A token signed by the trusted test key; ``sub`` is made up unless given."""
    claims.setdefault("sub", f"user-{uuid.uuid4().hex[:6]}")
    return mint(private_key, issuer=ISSUER, audience=AUDIENCE, claims=claims)


def bearer(private_key: Path, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(private_key, **claims)}"}


def api_settings(
    database_url: str,
    jwks: Path,
    *,
    task_queue: str | None = None,
    search_attributes: bool = False,
    temporal_address: str | None = None,
) -> Settings:
    """Settings for one API + worker pair: its own task queue and case-id key."""
    extra: dict[str, Any] = {}
    if temporal_address is not None:
        extra["temporal_address"] = temporal_address
    return Settings(
        database_url=database_url,
        temporal_task_queue=task_queue or f"api-{uuid.uuid4().hex[:8]}",
        temporal_search_attributes=search_attributes,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        auth_jwks_file=jwks,
        case_id_key=uuid.uuid4().hex,
        **extra,
    )


@dataclass
class Api:
    http: httpx.AsyncClient
    app: FastAPI
    sessions: sessionmaker[Session]
    env: WorkflowEnvironment
    settings: Settings
    private_key: Path
    departments: DepartmentSimulator
    platform: Platform

    def token(self, **claims: Any) -> str:
        return mint_token(self.private_key, **claims)

    def as_(self, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**claims)}"}


Headers = Callable[..., dict[str, str]]


@asynccontextmanager
async def serve(
    env: WorkflowEnvironment,
    database_url: str,
    signing_key: tuple[Path, Path],
    departments: DepartmentSimulator,
) -> AsyncIterator[Api]:
    """The app in-process (httpx over ASGI) with a worker on its own task queue."""
    private, jwks = signing_key
    settings = api_settings(database_url, jwks)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    app = create_app(settings, client=env.client, sessions=sessions)
    platform = departments.platform()
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            worker = build_worker(
                env.client,
                settings.temporal_task_queue,
                DepartmentSystems.over(platform, sessions),
                executor,
            )
            async with worker, app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                    yield Api(http, app, sessions, env, settings, private, departments, platform)
    finally:
        platform.close()
        engine.dispose()


@pytest.fixture
async def api(
    api_env: WorkflowEnvironment,
    database_url: str,
    signing_key: tuple[Path, Path],
    departments: DepartmentSimulator,
) -> AsyncIterator[Api]:
    async with serve(api_env, database_url, signing_key, departments) as running:
        yield running


@pytest.fixture
async def skipping_api(
    database_url: str, signing_key: tuple[Path, Path], departments: DepartmentSimulator
) -> AsyncIterator[Api]:
    """The app over a time-skipping server of its own, whose clock a test may move."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=temporal_test_server()
    )
    try:
        async with serve(env, database_url, signing_key, departments) as running:
            yield running
    finally:
        await env.shutdown()
