"""Faults a chaos run injects into the service's own database: dropped connections. Real faults,
from outside the processes under test: nothing in the worker or the API knows about them. (The
departments' systems going away is the simulator's process killed: ``harness.cluster``.)"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text

from db.session import make_engine, normalise_url


def unnamed(url: str) -> str:
    """``url`` without its ``application_name``: for the harness's own connections, which the
    faults must not hit."""
    parsed = normalise_url(url)
    query = {k: v for k, v in parsed.query.items() if k != "application_name"}
    return parsed.set(query=query).render_as_string(hide_password=False)


def _admin(url: str) -> Engine:
    """An engine on ``url`` whose connections are not among those it drops (no application
    name); on SQLite, the project's engine (its busy timeout waits for the writers)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return make_engine(parsed)
    return create_engine(unnamed(url))


def drop_connections(url: str) -> int:
    """Terminate every PostgreSQL connection that carries ``url``'s ``application_name`` (the
    worker's and the API's, which a run gives that name): what a database failover or a network
    cut does to them. The number dropped; SQLite has no connections to drop (0)."""
    parsed = normalise_url(url)
    name = parsed.query.get("application_name")
    if parsed.get_backend_name() != "postgresql" or not name:
        return 0
    engine = _admin(url)
    try:
        with engine.begin() as connection:
            dropped = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar_one()
        return int(dropped)
    finally:
        engine.dispose()
