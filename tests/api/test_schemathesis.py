"""Property-based testing of the whole API from its own OpenAPI schema (schemathesis 4).

How it runs, and why this way: schemathesis' ASGI transport is synchronous — it calls the app on
one event loop of its own, in a background thread (a "portal"), and runs the app's lifespan
there, kept alive between requests. The ``api`` fixture's Temporal client and worker live on
pytest's event loop instead, which a synchronous Hypothesis test blocks, so they cannot serve
it. So the app given to schemathesis is a thin ASGI wrapper, :class:`AppWithTemporal`, whose
lifespan starts everything the app needs *on schemathesis' loop*: a time-skipping Temporal test
server of its own, a worker on the database-backed department systems, the real app (with its
own lifespan) and one real declared case. The worker then runs in that loop between requests,
exactly as under a server. Requests are sent with valid bearer tokens of three roles (the case's
employer, an HR clerk and a city-level HR supervisor; each generated case picks one by a hash of
its own content, so a failure replays with the same role); those with a ``case_id`` are sent again
with the real case's id (and its pre-review task), so generated bodies also reach the workflow's
validators rather than stopping at a 404.

The only check is schemathesis' ``not_a_server_error``: whatever is generated, no 5xx.

Hypothesis runs derandomized and without its example database, so every run is the same.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from temporalio.testing import WorkflowEnvironment

from api.app import Message, Receive, Scope, Send, create_app
from contracts.declarations import Declaration
from contracts.people import Actor, Person, Role
from db.session import make_engine, make_sessionmaker
from harness.binaries import temporal_test_server
from harness.department_simulator import DepartmentSimulator
from policies import load_policy
from service.case_start import start_case
from service.settings import Settings
from service.temporal import DATA_CONVERTER
from tests.api.conftest import REGION, api_settings, bearer
from tests.support.people import new_id_number
from worker import DepartmentSystems, build_worker

ORGANISATION = "emp-fuzz-1"
MAX_EXAMPLES = 3
PRE_REVIEW_TASK = "pre-review-1"  # the first task a declared case opens


class AppWithTemporal:
    """The API app, started (with Temporal, a worker and one case) by its own lifespan."""

    def __init__(
        self,
        database_url: str,
        signing_key: tuple[Path, Path],
        departments: DepartmentSimulator,
    ) -> None:
        self.database_url = database_url
        self.signing_key = signing_key
        self.departments = departments
        self.app: FastAPI | None = None
        self.case_id = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        assert self.app is not None, "the lifespan has not started"
        await self.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message: Message = await receive()
        assert message["type"] == "lifespan.startup"
        async with AsyncExitStack() as stack:
            try:
                await self._start(stack)
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            assert message["type"] == "lifespan.shutdown"
        await send({"type": "lifespan.shutdown.complete"})

    async def _start(self, stack: AsyncExitStack) -> None:
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=DATA_CONVERTER, test_server_existing_path=temporal_test_server()
        )
        stack.push_async_callback(env.shutdown)
        settings = api_settings(self.database_url, self.signing_key[1])
        engine = make_engine(self.database_url)
        stack.callback(engine.dispose)
        sessions = make_sessionmaker(engine)
        executor = stack.enter_context(ThreadPoolExecutor(max_workers=8))
        platform = self.departments.platform()
        stack.callback(platform.close)
        worker = build_worker(
            env.client,
            settings.temporal_task_queue,
            DepartmentSystems.over(platform, sessions),
            executor,
        )
        await stack.enter_async_context(worker)
        app = create_app(settings, client=env.client, sessions=sessions)
        await stack.enter_async_context(app.router.lifespan_context(app))
        id_number = new_id_number(1967, 1)
        self.departments.seed(id_number, "王建国")
        started = await start_case(
            env.client,
            person=Person(
                id_number=id_number,
                name="王建国",
                category="male",
                region_code=REGION,
                employer_id=ORGANISATION,
            ),
            policy=load_policy(),
            secret=settings.case_secret,
            task_queue=settings.temporal_task_queue,
            declaration=Declaration(contribution_years=Decimal(30)),
            declared_by=Actor(id="officer", role=Role.EMPLOYER, organisation=ORGANISATION),
            request_id=f"fuzz-{uuid.uuid4().hex}",
            search_attributes=False,
        )
        self.case_id = started.case_id
        self.app = app


@pytest.fixture(scope="module")
def wrapped_app(
    database_url: str, signing_key: tuple[Path, Path], departments: DepartmentSimulator
) -> Iterator[AppWithTemporal]:
    app = AppWithTemporal(database_url, signing_key, departments)
    yield app
    shutdown_lifespans()  # stop the worker and the Temporal server started for ``app``


def _schema() -> Any:
    """The app's own OpenAPI document, built without starting anything."""
    document = create_app(Settings()).openapi()
    loaded = schemathesis.openapi.from_dict(document)
    loaded.config.generation.update(
        max_examples=MAX_EXAMPLES,
        deterministic=True,  # the same examples every run: a failure is reproducible
        database="none",  # no .hypothesis directory
    )
    return loaded


@pytest.fixture(scope="module")
def role_headers(signing_key: tuple[Path, Path]) -> list[dict[str, str]]:
    private = signing_key[0]
    return [
        bearer(private, sub="fuzz-employer", role="employer", organisation=ORGANISATION),
        bearer(private, sub="fuzz-hr-clerk", role="clerk", department="hr", region=REGION),
        bearer(private, sub="fuzz-hr-sup", role="supervisor", department="hr", region="220100"),
    ]


Test = Callable[..., None]
parametrize: Callable[[Test], Test] = _schema().parametrize()


@parametrize
def test_no_server_errors(
    case: Any, wrapped_app: AppWithTemporal, role_headers: list[dict[str, str]]
) -> None:
    variants: list[dict[str, str]] = [dict(case.path_parameters or {})]
    if "case_id" in variants[0]:
        real = {**variants[0], "case_id": wrapped_app.case_id}
        if "task_id" in real:
            real["task_id"] = PRE_REVIEW_TASK
        variants.append(real)
    # One role per generated case, chosen by the case itself: a failure names it and replays.
    headers = role_headers[zlib.crc32(_describe(case).encode()) % len(role_headers)]
    for path_parameters in variants:
        case.path_parameters = path_parameters
        case.call_and_validate(headers=headers, checks=[not_a_server_error], app=wrapped_app)


def _describe(case: Any) -> str:
    return repr((case.method, case.path, case.path_parameters, case.query, case.body))
