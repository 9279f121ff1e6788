"""How long a request spent waiting for Temporal, so the API's own share can be told apart.

A decision's latency is mostly the case's workflow task (Temporal and the worker); the API's
own work — the token, the read model, the idempotency record, the JSON — is the rest. Each
response says both in a ``Server-Timing`` header (``temporal;dur=…, app;dur=…``, milliseconds),
which browsers' developer tools show and the benchmark reads, and ``/metrics`` keeps the API's
own time per route (``retirement_api_own_duration_seconds``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class RequestClock:
    """The time one request has spent in calls to Temporal (mutable: a handler's tasks share
    the request's context by copy, and must add to the same clock)."""

    temporal: float = 0.0

    def header(self, total: float) -> bytes:
        own = max(total - self.temporal, 0.0)
        return f"temporal;dur={self.temporal * 1000:.1f}, app;dur={own * 1000:.1f}".encode()


_clock: ContextVar[RequestClock | None] = ContextVar("request_clock", default=None)


def start_request() -> RequestClock:
    """A fresh clock for the request being handled in this context."""
    clock = RequestClock()
    _clock.set(clock)
    return clock


@asynccontextmanager
async def waiting_for_temporal() -> AsyncIterator[None]:
    """Count the enclosed call to Temporal as time the request spent waiting for it."""
    started = time.perf_counter()
    try:
        yield
    finally:
        clock = _clock.get()
        if clock is not None:
            clock.temporal += time.perf_counter() - started
