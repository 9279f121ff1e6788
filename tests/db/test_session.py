"""Engines: SQLite set up for concurrent use and savepoints, PostgreSQL through psycopg."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from threading import Barrier
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from db.models import ApiRequestRow, CaseRow, TaskRow
from db.session import DEFAULT_DATABASE_URL, make_engine, normalise_url
from tests.db import factories as f


def test_default_database_is_a_sqlite_file_under_var() -> None:
    assert DEFAULT_DATABASE_URL == "sqlite:///var/retirement.db"


def test_sqlite_creates_its_folder_and_sets_its_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'deeper' / 'x.db'}")
    try:
        with engine.connect() as connection:
            pragmas = [
                connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
        assert pragmas == ["wal", 1, 15000]
        assert (tmp_path / "nested" / "deeper" / "x.db").is_file()
    finally:
        engine.dispose()


def test_in_memory_sqlite_is_one_database_for_all_connections() -> None:
    engine = make_engine("sqlite://")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    finally:
        engine.dispose()


def test_postgresql_urls_use_psycopg() -> None:
    url = normalise_url("postgresql://u@db:5432/retirement")
    assert url.drivername == "postgresql+psycopg"
    engine = make_engine("postgresql+psycopg://u@db:5432/retirement")  # connects lazily
    assert engine.pool._pre_ping
    engine.dispose()


@pytest.mark.parametrize("url", ["mysql://u@db/x", "postgresql+psycopg2://u@db/x"])
def test_other_databases_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"psycopg|unsupported"):
        make_engine(url)


def test_foreign_keys_are_enforced(sessions: sessionmaker[Session]) -> None:
    task = f.task("t1")
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(
            TaskRow(
                id="nowhere/t1",
                case_id="nowhere",
                task_id="t1",
                kind=str(task.kind),
                title=task.title,
                assignee="clerk",
                region_code=f.REGION,
                status="open",
                due_estimated=False,
                escalated=False,
                opened_at=f.T0,
            )
        )


def test_a_failed_savepoint_leaves_the_transaction_usable(sessions: sessionmaker[Session]) -> None:
    def row(key: str) -> ApiRequestRow:
        return ApiRequestRow(subject="employer:officer", key=key, fingerprint="f" * 64)

    with sessions.begin() as session:
        session.add(row("k1"))
        session.flush()
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(row("k1"))
        session.add(row("k2"))
    with sessions() as session:
        keys = session.scalars(text("SELECT key FROM api_requests")).all()
    assert sorted(keys) == ["k1", "k2"]


def test_timestamps_must_be_aware_and_come_back_in_utc(sessions: sessionmaker[Session]) -> None:
    snapshot = f.snapshot()
    fields = {
        "person_key": "k",
        "id_number": f.id_number(),
        "person_name": "张三",
        "region_code": f.REGION,
        "organisation": f.EMPLOYER,
        "has_employer": True,
        "stage": "pre-review",
        "category": "male",
        "retirement_month": "2026-08",
        "overdue": False,
        "pending_departments": "",
        "version": 1,
        "snapshot": snapshot.model_dump(mode="json"),
    }
    naive = datetime(2026, 3, 2, 9, 0)
    with sessions() as session:
        session.add(CaseRow(case_id="c", created_at=naive, updated_at=naive, **fields))
        with pytest.raises(StatementError, match="timezone-aware"):
            session.flush()
    beijing = f.T0.astimezone(ZoneInfo("Asia/Shanghai"))
    with sessions.begin() as session:
        session.add(CaseRow(case_id="c", created_at=beijing, updated_at=beijing, **fields))
    with sessions() as session:
        stored = session.get_one(CaseRow, "c").created_at
    assert stored == f.T0
    assert stored.utcoffset() == timedelta(0)


def test_engine_fixture_matches_the_backend(engine: Engine, backend: str) -> None:
    assert engine.dialect.name == backend


def test_a_postgresql_pool_keeps_one_connection_per_thread(database_url: str) -> None:
    """Sessions on as many threads as the pool holds reuse its connections: none is opened and
    closed per session (each would be a new PostgreSQL server process)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite opens no server connections")
    threads = 8
    engine = make_engine(database_url, pool_size=threads)
    opened: list[int] = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    together = Barrier(threads)

    def work() -> None:
        for _ in range(5):
            with engine.connect() as connection:
                together.wait(timeout=10)  # all threads hold a connection at once
                connection.execute(text("SELECT 1"))

    try:
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(work) for _ in range(threads)]:
                future.result()
    finally:
        engine.dispose()
    assert len(opened) == threads
