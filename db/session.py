"""Engines and sessions for SQLite (development, the demo) and PostgreSQL (production).

SQLite notes. Python's ``sqlite3`` module starts transactions lazily and its own way, which
breaks SAVEPOINT (``Session.begin_nested``) — and the department systems rely on savepoints for
their idempotent inserts. So, as the SQLAlchemy documentation recommends, the driver's
transaction handling is switched off and every transaction starts with ``BEGIN IMMEDIATE``: a
transaction takes the write lock when it starts, so two writers queue (within the busy timeout)
instead of one failing with "database is locked" when it upgrades a read to a write. WAL keeps
readers of other processes unblocked. This serialises transactions within the database, which is
right for a development database and not what PostgreSQL does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

DEFAULT_DATABASE_URL = "sqlite:///var/retirement.db"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def normalise_url(url: str | URL) -> URL:
    """A parsed URL; a bare ``postgresql://`` URL gets the psycopg (3) driver installed here."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


# Connections a PostgreSQL engine keeps open. A pool smaller than the threads that use it at once
# opens and closes a connection for every session past it (a new server process each time): the
# worker did that about seven times per case at full load. The worker sizes its pool to its
# activity threads; the API's database calls run on a few threads at a time.
POOL_SIZE = 10


def make_engine(url: str | URL, *, pool_size: int = POOL_SIZE) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql+psycopg://...`` URLs; ``pool_size`` is
    how many PostgreSQL connections it keeps (up to as many again are opened for a burst)."""
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ValueError("PostgreSQL URLs use the psycopg driver: postgresql+psycopg://...")
        return create_engine(
            parsed, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size
        )
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")


def make_sessionmaker(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (receipts are built from them).

    ``read_only``: for sessions that only read. On SQLite they begin a deferred transaction,
    which in WAL mode neither waits for nor blocks a writer; writing sessions begin IMMEDIATE
    (see the module docstring). On PostgreSQL both are the same."""
    bound = engine.execution_options(read_only_session=True) if read_only else engine
    return sessionmaker(bind=bound, expire_on_commit=False)


def read_only(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """The read-only twin of ``sessions`` (same engine)."""
    engine: Engine = sessions.kw["bind"]
    return make_sessionmaker(engine, read_only=True)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(url.query.get("mode", ""))
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    }
    if in_memory:
        # One connection shared by all threads, or each would see its own empty database.
        kwargs["poolclass"] = StaticPool
    elif not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (see the module docstring).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    if connection.get_execution_options().get("read_only_session"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
