"""Suite-wide fixtures and the truthful exit status."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from domain.policy import Policy
from policies import load_policy

_exit_status: list[int] = []


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The bundled Jilin policy, as the service loads it."""
    return load_policy()


REQUIRE_POSTGRES_ENV = "REQUIRE_POSTGRES"


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database for this test session: a temporary SQLite file, or a schema of
    its own in the PostgreSQL database named by ``$TEST_POSTGRES_URL`` (dropped at the end).

    Without a reachable PostgreSQL the ``postgres`` tests are skipped, or fail when
    ``REQUIRE_POSTGRES=1`` (CI). ``-m "not postgres"`` leaves them out.
    """
    # Imported here, so tests that need no database don't load SQLAlchemy.
    from harness.scratch import postgres_schema, sqlite_database

    if request.param == "sqlite":
        with sqlite_database(Path(tmp_path_factory.mktemp("db"))) as url:
            yield url
        return
    with postgres_or_skip(postgres_schema()) as url:
        yield url


@contextmanager
def postgres_or_skip(schema: AbstractContextManager[str]) -> Iterator[str]:
    """``schema``, or a skip (a failure under ``REQUIRE_POSTGRES=1``) without PostgreSQL."""
    from harness.scratch import POSTGRES_URL_ENV, PostgresUnavailable

    try:
        with schema as url:
            yield url
    except PostgresUnavailable as exc:  # raised only on entering: the schema was not made
        reason = f"{exc}; set {POSTGRES_URL_ENV}, or deselect these tests with -m 'not postgres'"
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def departments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The department simulator, its own process with its own database, for the whole session:
    the worker of every test reaches the departments over signed HTTP through it."""
    from harness.department_simulator import DepartmentSimulator

    simulator = DepartmentSimulator(Path(tmp_path_factory.mktemp("departments")))
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="session")
def platform(departments: Any) -> Iterator[Any]:
    """The adapters to the session's simulator (``adapters.departments.Platform``), as a
    worker's department systems: ``DepartmentSystems.over(platform, sessions)``."""
    with departments.platform() as connected:
        yield connected


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[Any]:
    """A real local Temporal dev server (the CLI's, with the custom search attributes registered),
    one per test module, with the project's encrypting data converter; its client refuses to
    query a running workflow, as the project's own clients do."""
    # Imported here: a run that never starts Temporal exits the ordinary way (see below).
    from temporalio.testing import WorkflowEnvironment

    from contracts import search
    from harness.binaries import temporal_cli
    from service.temporal import DATA_CONVERTER, QueriesOnlyToClosedRuns

    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        interceptors=[QueriesOnlyToClosedRuns()],  # as every client of the project
        dev_server_existing_path=temporal_cli(),
        search_attributes=search.ALL,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # After Temporal's Rust core has run, CPython may crash while finalising and turn a green run
    # into exit 134/139 (engineering.md). Once every report is written, leave with pytest's own
    # status. Only when Temporal was loaded, so plain runs exit the ordinary way.
    if _exit_status and "temporalio" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])
