"""``Idempotency-Key``: a request applied once, its answer repeated to every retry."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal
from api.problems import Problem
from db.models import ApiRequestRow

WAIT_FOR_TWIN = 30.0  # seconds a concurrent duplicate waits for the first to finish
ABANDONED_AFTER = timedelta(minutes=5)  # a claim this old with no answer died with its process


def request_id(who: Principal, key: str | None) -> str:
    """The id a request carries to the workflow (and its Temporal update id).

    Scoped to the caller: Temporal de-duplicates updates by id across everyone acting on a case,
    so two callers who happen to choose the same Idempotency-Key must not share one — the second
    would be answered with the first's result and its own action silently dropped."""
    if key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{who.role}:{who.subject}:{key}".encode()).hexdigest()[:32]


def fingerprint(method: str, path: str, body: Any) -> str:
    payload = json.dumps(jsonable_encoder(body), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{payload}".encode()).hexdigest()


async def once(
    sessions: sessionmaker[Session],
    who: Principal,
    key: str | None,
    print_: str,
    apply: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Run ``apply`` once per (caller, key); repeat its stored answer for a retry.

    Without a key the request is simply applied. A key reused with a different request is a 422.
    Failures (4xx/5xx) are not stored: the caller may fix the request and retry with the key.
    """
    if key is None:
        status, body = await apply()
        return JSONResponse(jsonable_encoder(body), status_code=status)
    subject = f"{who.role}:{who.subject}"
    claimed = await asyncio.to_thread(_claim, sessions, subject, key, print_)
    if not claimed:
        stored = await _await_stored(sessions, subject, key, print_)
        return JSONResponse(stored[1], status_code=stored[0])
    answered = _in_flight.setdefault((subject, key), asyncio.Event())
    try:
        try:
            status, body = await apply()
        except BaseException:
            await asyncio.to_thread(_release, sessions, subject, key)
            raise
        encoded = jsonable_encoder(body)
        await asyncio.to_thread(_store, sessions, subject, key, status, encoded)
    finally:
        answered.set()
        _in_flight.pop((subject, key), None)
    return JSONResponse(encoded, status_code=status)


# Requests of this process being applied, by (caller, key): a twin that arrives here waits for
# the event instead of polling the database (under load, polling twins took every thread of the
# executor the database calls run on). A twin in another API process polls, backing off.
_in_flight: dict[tuple[str, str], asyncio.Event] = {}


def _claim(sessions: sessionmaker[Session], subject: str, key: str, print_: str) -> bool:
    """Take the key; or take over a claim whose process died before answering (applying the
    request again is safe: the workflow refuses a request id it has applied)."""
    try:
        with sessions.begin() as db:
            db.add(ApiRequestRow(subject=subject, key=key, fingerprint=print_))
        return True
    except IntegrityError:
        pass
    now = datetime.now(UTC)
    with sessions.begin() as db:
        taken = db.execute(
            update(ApiRequestRow)
            .where(
                ApiRequestRow.subject == subject,
                ApiRequestRow.key == key,
                ApiRequestRow.fingerprint == print_,
                ApiRequestRow.status_code.is_(None),
                ApiRequestRow.created_at < now - ABANDONED_AFTER,
            )
            .values(created_at=now)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def _row(db: Session, subject: str, key: str) -> ApiRequestRow | None:
    return db.scalar(
        select(ApiRequestRow).where(ApiRequestRow.subject == subject, ApiRequestRow.key == key)
    )


async def _await_stored(
    sessions: sessionmaker[Session], subject: str, key: str, print_: str
) -> tuple[int, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_FOR_TWIN
    pause = 0.05
    while True:
        twin = _in_flight.get((subject, key))
        if twin is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(twin.wait(), max(0.0, deadline - loop.time()))
        found = await asyncio.to_thread(_read, sessions, subject, key)
        if found is None:
            raise Problem(409, "the first request with this Idempotency-Key failed; retry it")
        stored_print, status, body = found
        if stored_print != print_:
            raise Problem(
                422,
                "this Idempotency-Key was used for a different request",
                "idempotency-key-reused",
            )
        if status is not None:
            return status, body
        if loop.time() > deadline:
            raise Problem(409, "a request with this Idempotency-Key is still in progress")
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)


def _read(
    sessions: sessionmaker[Session], subject: str, key: str
) -> tuple[str, int | None, Any] | None:
    with sessions() as db:
        row = _row(db, subject, key)
        return None if row is None else (row.fingerprint, row.status_code, row.response)


def _store(sessions: sessionmaker[Session], subject: str, key: str, status: int, body: Any) -> None:
    with sessions.begin() as db:
        row = _row(db, subject, key)
        if row is not None:
            row.status_code = status
            row.response = body


def _release(sessions: sessionmaker[Session], subject: str, key: str) -> None:
    with sessions.begin() as db:
        row = _row(db, subject, key)
        if row is not None:
            db.delete(row)
