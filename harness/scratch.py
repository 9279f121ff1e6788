"""Throwaway databases for tests, chaos, load and benchmark runs: a SQLite file, or a schema of
its own in a PostgreSQL database (dropped afterwards), migrated and empty."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from db.migrate import upgrade
from db.session import normalise_url

POSTGRES_URL_ENV = "TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL did not answer at the configured URL."""


def postgres_base_url() -> str:
    """Where scratch PostgreSQL schemas go: ``$TEST_POSTGRES_URL`` or the local ``test``."""
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    url = f"sqlite:///{folder / 'retirement.db'}"
    upgrade(url)
    yield url


@contextmanager
def postgres_schema(
    base_url: str | None = None, *, application_name: str | None = None, migrate: bool = True
) -> Iterator[str]:
    """A schema of its own, migrated to the project's tables unless ``migrate=False`` (the
    department simulator makes its own); its URL sets ``search_path`` (and ``application_name``,
    by which a chaos run finds its own connections to drop)."""
    configured = normalise_url(base_url or postgres_base_url())
    base = configured.update_query_dict({"connect_timeout": "5"})
    schema = f"scratch_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except OperationalError as exc:
            where = configured.render_as_string(hide_password=True)
            first_line = str(exc.orig or exc).strip().splitlines()[0]
            raise PostgresUnavailable(
                f"PostgreSQL is not reachable at {where} ({first_line})"
            ) from None
        query = {"options": f"-csearch_path={schema}"}
        if application_name:
            query["application_name"] = application_name
        url = base.update_query_dict(query).render_as_string(hide_password=False)
        try:
            if migrate:
                upgrade(url)
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def scratch_database(
    kind: str, folder: Path, *, application_name: str | None = None
) -> Iterator[str]:
    """A scratch ``sqlite`` or ``postgres`` database for a chaos, load or benchmark run."""
    if kind == "sqlite":
        with sqlite_database(folder) as url:
            yield url
    elif kind == "postgres":
        with postgres_schema(application_name=application_name) as url:
            yield url
    else:
        raise ValueError(f"the database is sqlite or postgres, not {kind!r}")
