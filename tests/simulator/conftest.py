"""The simulator's tables on each test database (SQLite and PostgreSQL), emptied for every test.

The session's ``database_url`` is the project database, migrated; the simulator's own tables
(``simulator.models``) are created beside it, as the simulator creates them in its own database.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from db.session import make_engine, make_sessionmaker
from domain.idcard import check_character
from simulator import scenarios
from simulator.models import Base


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
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


# The session's simulator is shared by every test module, and it keeps what it derived for anyone
# looked up: the tests that talk to it use people of a county no other test uses (公主岭市), each
# new, from a random start so two runs against one simulator would not meet either.
SIMULATOR_REGION = "220381"
_serials = itertools.count(random.randrange(10_000))  # noqa: S311 - not a secret


def new_id_number(*, born: str = "196605") -> str:
    """A valid ID number never handed out before in this process, born in the month ``born``
    (``YYYYMM``): its birth day and sequence digits tell people apart."""
    n = next(_serials)
    day = 1 + n % 28
    sequence = (n // 28) % 1000
    first17 = f"{SIMULATOR_REGION}{born}{day:02d}{sequence:03d}"
    return first17 + check_character(first17)
