"""The simulator's tables on a database of their own (SQLite and PostgreSQL), as the simulator
keeps them apart from the project's, emptied for every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from db.session import make_engine, make_sessionmaker
from simulator import scenarios
from simulator.models import Base
from tests.conftest import postgres_or_skip


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def simulator_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database for the simulator's tables: a SQLite file, or a PostgreSQL schema of
    its own (skipped without PostgreSQL, a failure under REQUIRE_POSTGRES=1)."""
    from harness.scratch import postgres_schema

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('simulator') / 'departments.db'}"
        return
    with postgres_or_skip(postgres_schema(migrate=False)) as url:
        yield url


@pytest.fixture(scope="session")
def engine(simulator_database_url: str) -> Iterator[Engine]:
    engine = make_engine(simulator_database_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on empty simulator tables (created once per test session, emptied per test)."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    return make_sessionmaker(engine)


@pytest.fixture
def backend(engine: Engine) -> str:
    """``sqlite`` or ``postgresql``."""
    return engine.dialect.name


def seed(sessions: sessionmaker[Session], id_number: str, name: str, **records: Any) -> None:
    """Script the person's records (``simulator.scenarios.person``'s keywords), as the admin API
    does: every earlier record of theirs is replaced and none is derived for them later."""
    scenarios.apply(sessions, id_number, scenarios.person(name, **records))
