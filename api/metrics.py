"""Prometheus metrics of the API: requests and latency by route, decisions by department and
outcome, and business gauges read from the read model at scrape time (open cases by stage,
open and overdue tasks by department). Served at ``/metrics``; no personal data in any label."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.timing import start_request
from db.models import CaseRow, TaskRow


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "retirement_api_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "retirement_api_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.own_latency = Histogram(
            "retirement_api_own_duration_seconds",
            "HTTP request latency without the time spent waiting for Temporal (api/timing.py)",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
            registry=self.registry,
        )
        self.decisions = Counter(
            "retirement_decisions",
            "Clerks' decisions by department, outcome and result (accepted or refused)",
            ["department", "outcome", "result"],
            registry=self.registry,
        )

    def watch_read_model(self, sessions: sessionmaker[Session]) -> None:
        self.registry.register(_ReadModelGauges(sessions))


class _ReadModelGauges(Collector):
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        cases = GaugeMetricFamily(
            "retirement_open_cases", "Cases not yet closed, by stage", labels=["stage"]
        )
        open_tasks = GaugeMetricFamily(
            "retirement_open_tasks", "Open clerk tasks by department", labels=["department"]
        )
        overdue = GaugeMetricFamily(
            "retirement_overdue_tasks",
            "Open clerk tasks past their deadline (escalated), by department",
            labels=["department"],
        )
        with self._sessions() as db:
            for stage, count in db.execute(
                select(CaseRow.stage, func.count())
                .where(CaseRow.closed_at.is_(None))
                .group_by(CaseRow.stage)
            ):
                cases.add_metric([stage], count)
            for department, count, late in db.execute(
                select(
                    TaskRow.department,
                    func.count(),
                    func.sum(func.cast(TaskRow.escalated, Integer)),
                )
                .where(TaskRow.status == "open", TaskRow.department.is_not(None))
                .group_by(TaskRow.department)
            ):
                open_tasks.add_metric([department], count)
                overdue.add_metric([department], late or 0)
        yield cases
        yield open_tasks
        yield overdue


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    """Counts and times every request under its route template (``/cases/{case_id}``), so a
    label never carries an id."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        clock = start_request()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", clock.header(time.perf_counter() - started)))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            if method not in _METHODS:
                method = "OTHER"  # any string is a method to HTTP: keep the label set bounded
            self.metrics.requests.labels(method, template, str(status)).inc()
            total = time.perf_counter() - started
            self.metrics.latency.labels(method, template).observe(total)
            self.metrics.own_latency.labels(method, template).observe(
                max(total - clock.temporal, 0.0)
            )
