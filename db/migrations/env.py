"""Alembic environment: migrate the database that ``db.migrate`` (or the ``alembic`` command)
names, with the models' metadata as the target for autogenerate.

``db.migrate`` passes an open connection in ``config.attributes["connection"]``; otherwise the
URL comes from ``config.attributes["url"]``, the ``sqlalchemy.url`` option, ``$DATABASE_URL``,
or the default SQLite file, in that order.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from db.models import Base
from db.session import DEFAULT_DATABASE_URL, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return str(
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite alters tables by copying them; later migrations need batch mode there.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as fresh:
            _run(fresh)
            fresh.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
