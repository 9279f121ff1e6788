"""``retirement dev run`` (what ``make run`` does): the whole service on this machine.

Starts the Temporal dev server (persistent database under ``var/``, the search attributes
registered, the web UI), migrates the database, starts the workers (one process for the
workflows, one for the department steps) and the API (with a local development identity key
and tokens for the demo users in ``var/dev-tokens.json``), seeds the demo cases at different
stages, prints where everything is, and stops it all on Ctrl-C.
(The command's arguments: ``cli/dev.py``.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from pydantic import SecretStr

from contracts import search
from contracts.platform import DEV_APP_ID, DEV_SECRET
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from domain.timeline import CHINA_TZ
from harness.binaries import temporal_cli
from harness.demo import drive_together, start_demo_cases
from harness.department_simulator import DepartmentSimulator
from harness.dev_tokens import write_dev_tokens
from harness.ports import in_use, wait_for_port, wait_for_temporal
from policies import load_policy
from service.schedules import ensure_schedules
from service.settings import get_settings
from service.temporal import connect
from simulator.app import DEV_ADMIN_TOKEN

VAR = Path("var")


def run_dev(args: argparse.Namespace, out: IO[str]) -> int:
    settings = get_settings()
    host, _, port_text = settings.temporal_address.rpartition(":")
    port = int(port_text)
    simulate = _simulated(settings.departments_url)
    workers = worker_processes(settings.worker_metrics_address or "127.0.0.1:9464")
    busy = [
        ("Temporal", port),
        ("the Temporal UI", args.ui_port),
        ("the API", settings.api_port),
        *((f"the {runs} worker's metrics", _port(metrics)) for runs, _, metrics in workers),
    ]
    if simulate is not None:
        busy.append(("the department simulator", simulate.port))
    for what, p in busy:
        if in_use(host, p):
            out.write(f"port {p} for {what} is in use: is `make run` already running?\n")
            return 2
    VAR.mkdir(exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    try:
        server_log = (VAR / "temporal.log").open("ab")
        server = subprocess.Popen(  # noqa: S603 - our own binary and fixed arguments
            [
                temporal_cli(), "server", "start-dev",
                "--ip", host, "--port", str(port), "--ui-port", str(args.ui_port),
                "--db-filename", str(VAR / "temporal.db"),
                "--namespace", settings.temporal_namespace,
                "--log-level", "warn",
                # The UI decodes payloads through the API's codec endpoint (loopback, dev mode).
                "--ui-codec-endpoint",
                f"http://{settings.api_host}:{settings.api_port}/codec",
                *search.dev_server_args(),
            ],
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        children.append(server)
        wait_for_temporal(f"{host}:{port}", server, timeout=60)
        upgrade(settings.database_url)
        if simulate is not None:
            # The departments' systems, simulated: the worker reaches them over signed HTTP at
            # DEPARTMENTS_URL with the development secret, as it would the real ones.
            simulate.start()
            children.append(_process(simulate))
        # The workflows and the department steps in worker processes of their own, as
        # deployed (docker-compose.yml): a decision's workflow task never waits for the GIL
        # behind busy activity threads (docs/performance.md, item 17).
        for runs, log_name, metrics in workers:
            log = (VAR / log_name).open("ab")
            env = {**os.environ, "WORKER_RUNS": runs, "WORKER_METRICS_ADDRESS": metrics}
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "worker"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        # The API trusts a local development key and writes tokens for the demo users; the
        # pages' sign-in offers those users.
        tokens = write_dev_tokens(
            VAR,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            today=datetime.now(CHINA_TZ).date(),
            policy=load_policy(),
        )
        api_env = {**os.environ, "AUTH_DEV_MODE": "true", "DEV_SIGNIN_FILE": str(tokens)}
        api_log = (VAR / "api.log").open("ab")
        api = subprocess.Popen(  # noqa: S603
            [
                sys.executable, "-m", "uvicorn", "web.app:app",
                "--host", settings.api_host, "--port", str(settings.api_port),
                "--no-access-log",
            ],
            env=api_env,
            stdout=api_log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        children.append(api)
        wait_for_port(settings.api_host, settings.api_port, api, timeout=60)
        asyncio.run(_schedules())
        if not args.no_seed and simulate is not None:
            asyncio.run(_seed(simulate))
        out.write(
            "\nRetirement as one thing is running:\n"
            f"  Temporal UI     http://{host}:{args.ui_port}/namespaces/"
            f"{settings.temporal_namespace}/workflows\n"
            f"  Temporal        {settings.temporal_address} (namespace "
            f"{settings.temporal_namespace}, task queue {settings.temporal_task_queue})\n"
            f"  pages           http://{settings.api_host}:{settings.api_port}/ (Chinese; "
            "the service guide at /guide)\n"
            f"  API             http://{settings.api_host}:{settings.api_port}/docs "
            f"(OpenAPI at /openapi.json)\n"
            f'  dev tokens      {tokens} (curl -H "Authorization: Bearer $TOKEN")\n'
            f"  database        {settings.database_url}\n"
            f"  departments     {_departments_line(settings.departments_url, simulate)}\n"
            f"  logs            {VAR}/temporal.log, {VAR}/worker.log, "
            f"{VAR}/activity-worker.log, {VAR}/api.log, {VAR}/departments.log\n"
            f"  worker metrics  workflows http://{workers[0][2]}/metrics, "
            f"activities http://{workers[1][2]}/metrics\n"
            "Demo cases are at different stages; search them in the UI with, for example,\n"
            "  RetirementStage = 'pre-review'\n"
            "Press Ctrl-C to stop.\n"
        )
        out.flush()
        _wait_until_stopped(children)
        return 0
    finally:
        for child in reversed(children):
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
        for child in reversed(children):
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def worker_processes(metrics: str) -> list[tuple[str, str, str]]:
    """(what it runs, its log, its metrics address) of each worker process: the workflows'
    metrics at WORKER_METRICS_ADDRESS, the activities' at the next port."""
    host, _, port = metrics.rpartition(":")
    return [
        ("workflows", "worker.log", metrics),
        ("activities", "activity-worker.log", f"{host}:{int(port) + 1}"),
    ]


def _port(address: str) -> int:
    return int(address.rpartition(":")[2])


def _simulated(departments_url: str) -> DepartmentSimulator | None:
    """The simulator ``make run`` starts when DEPARTMENTS_URL is on this machine (the default);
    pointed elsewhere, the worker talks to those systems and none is started."""
    parts = urlsplit(departments_url)
    if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
        return None
    return DepartmentSimulator(
        VAR,
        port=parts.port,
        app_id=DEV_APP_ID,
        secret=SecretStr(DEV_SECRET),
        admin_token=DEV_ADMIN_TOKEN,
        log_name="departments.log",
    )


def _process(simulator: DepartmentSimulator) -> subprocess.Popen[bytes]:
    if simulator.process is None:
        raise RuntimeError("the department simulator was not started")
    return simulator.process


def _departments_line(url: str, simulator: DepartmentSimulator | None) -> str:
    if simulator is None:
        return f"{url} (not simulated)"
    return (
        f"{url}/<system> (simulated; admin API {url}/admin, "
        f'"Authorization: Bearer {simulator.admin_token}")'
    )


def _wait_until_stopped(children: list[subprocess.Popen[bytes]]) -> None:
    stop = False

    def handler(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop:
        for child in children:
            if child.poll() is not None:
                raise RuntimeError(f"{child.args!r} exited with {child.returncode}; see var/")
        time.sleep(0.5)


async def _schedules() -> None:
    settings = get_settings()
    await ensure_schedules(await connect(settings), settings.temporal_task_queue)


async def _seed(departments: DepartmentSimulator) -> None:
    settings = get_settings()
    client = await connect(settings)
    engine = make_engine(settings.database_url)
    try:
        runs = await start_demo_cases(
            client,
            make_sessionmaker(engine),
            departments,
            policy=load_policy(),
            secret=settings.case_secret,
            task_queue=settings.temporal_task_queue,
            search_attributes=settings.temporal_search_attributes,
            until_stop=True,
        )
        await drive_together(runs, timeout=90)
    finally:
        engine.dispose()


if os.name != "posix":  # pragma: no cover - the service runs on Linux
    raise RuntimeError("retirement dev run needs a POSIX system")
