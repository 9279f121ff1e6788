"""``api/app.py``: the app reads through read-only sessions (``db.session.read_only``, its
``ApiContext.read_sessions``), so clerks polling their inbox while others open cases never lock
SQLite."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.app import create_app
from db.session import make_engine, make_sessionmaker
from tests.api.conftest import Api
from tests.api.support import (
    clerk_headers,
    declare_case,
    employer_headers,
    inbox_task,
    new_org,
)


async def test_concurrent_reads_do_not_lock_sqlite(
    api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clerks polling their inbox while others open cases: never a 500.

    The SQLite busy timeout (15 s) is lowered for this app's engine so that a lock-up shows in
    well under a second instead of stalling the whole API for 15 s; it changes how long the
    deadlock lasts, not whether it happens.
    """
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock taken by reads is SQLite's (BEGIN IMMEDIATE)")
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    hr = clerk_headers(api, "hr")
    await inbox_task(api.http, hr, case_id, "pre-review")
    monkeypatch.setattr("db.session.SQLITE_BUSY_TIMEOUT_MS", 300)
    engine = make_engine(database_url)
    app = create_app(api.settings, client=api.env.client, sessions=make_sessionmaker(engine))
    statuses: set[int] = set()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                for _ in range(200):
                    answers = await asyncio.gather(
                        *(http.get("/inbox", headers=hr) for _ in range(4)),
                        *(http.get(f"/cases/{case_id}", headers=employer) for _ in range(4)),
                    )
                    statuses |= {a.status_code for a in answers}
                    if max(statuses) >= 500:
                        break
    finally:
        engine.dispose()
    assert statuses == {200}
