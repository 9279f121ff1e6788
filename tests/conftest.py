"""Suite-wide fixtures and the truthful exit status."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from domain.policy import Policy
from policies import load_policy

_exit_status: list[int] = []


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The bundled Jilin policy, as the service loads it."""
    return load_policy()


POSTGRES_URL_ENV = "TEST_POSTGRES_URL"
DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
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
    from db.migrate import upgrade  # here, so tests that need no database don't load SQLAlchemy

    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'retirement.db'}"
        upgrade(url)
        yield url
        return
    with _postgres_schema() as url:
        upgrade(url)
        yield url


@contextmanager
def _postgres_schema() -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from db.session import normalise_url

    configured = normalise_url(os.environ.get(POSTGRES_URL_ENV) or DEFAULT_TEST_POSTGRES_URL)
    base = configured.update_query_dict({"connect_timeout": "5"})
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except OperationalError as exc:
            where = configured.render_as_string(hide_password=True)
            first_line = str(exc.orig or exc).strip().splitlines()[0]
            reason = (
                f"PostgreSQL is not reachable at {where} ({first_line}); set {POSTGRES_URL_ENV}, "
                f"or deselect these tests with -m 'not postgres'"
            )
            if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
                pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {reason}", pytrace=False)
            pytest.skip(reason)
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


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
