"""``retirement demo``: every path run to the end on the time-skipping server, in seconds.

The real workflow and the real department steps, over signed HTTP to a department simulator of
the run's own, with a temporary SQLite read model; only the clock is simulated. Prints each
case's story. (The command's arguments: ``cli/demo.py``.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from cli.output import print_json, print_table
from contracts import search
from db.session import make_engine, make_sessionmaker
from domain.timeline import CHINA_TZ
from harness.binaries import temporal_cli, temporal_test_server
from harness.demo import DemoRun, drive_together, start_demo_cases
from harness.department_simulator import DepartmentSimulator
from harness.driver import Driver, ReadModelView, Script, organisation_actor
from harness.people import early_retiree
from harness.replay_gate import FAILURES, replay_histories, run_name
from harness.scratch import sqlite_database
from policies import load_policy
from service.case_start import start_case
from service.settings import Settings
from service.temporal import QueriesOnlyToClosedRuns, data_converter, runtime
from worker import DepartmentSystems, build_worker

SECRET = b"demo-case-id-key"
# The demo encrypts its payloads like the service, with a key ring of its own that is committed
# on purpose: the histories it records form the replay corpus, which CI must be able to read.
# Never use it for real cases.
DEMO_PAYLOAD_KEYS = '{"demo-1": "ZGVtby1vbmx5LXBheWxvYWQta2V5LTMyLWJ5dGVzISE="}'


def demo_data_converter() -> DataConverter:
    return data_converter(Settings(payload_keys=DEMO_PAYLOAD_KEYS, payload_key_id="demo-1"))


def run_demo(args: argparse.Namespace, out: IO[str]) -> int:
    runs, histories = asyncio.run(_demo(args.record_histories is not None))
    if args.record_histories is not None:
        histories[LIVE_LABEL] = asyncio.run(_live_history())
        if not recordings_replay(histories):
            return 1
        args.record_histories.mkdir(parents=True, exist_ok=True)
        for label, history in histories.items():
            (args.record_histories / f"{label}.json").write_text(history, encoding="utf-8")
    events = [
        {
            "case": run.case.label,
            "at": event.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
            "stage": event.stage,
            "event": event.event,
            "actor": event.actor,
        }
        for run in runs
        for event in run.snapshot.events
    ]
    if args.json:
        print_json(events, out)
        return 0
    for run in runs:
        snap = run.snapshot
        out.write(f"\n== {run.case.label}: {snap.stage}, retires {snap.deadlines.retirement_month}")
        out.write(f" ({snap.closed_reason})\n" if snap.closed_reason else "\n")
        print_table(
            ["at (China)", "stage", "event", "actor"],
            [
                [e["at"], e["stage"], e["event"], e["actor"]]
                for e in events
                if e["case"] == run.case.label
            ],
            out,
        )
    return 0


def recordings_replay(histories: dict[str, str]) -> bool:
    """Every recording replays against the current workflow code before it joins the corpus
    (``harness.replay_gate``); says on stderr which do not, kept under var/replay-failures/."""
    report = asyncio.run(
        replay_histories(
            (WorkflowHistory.from_json(label, text) for label, text in histories.items()),
            demo_data_converter(),
            folder=FAILURES / run_name("demo"),
        )
    )
    for failure in report.failures:
        print(
            f"demo: the {failure.workflow_id} history does not replay ({failure.message}); "
            f"kept in {failure.history_file}, nothing recorded",
            file=sys.stderr,
        )
    return report.ok


# The time-skipping server has no custom search attributes, so the demo's cases publish none;
# this case runs on a real dev server, which has them, so the corpus replays the projector's
# search-attribute upserts too. Illness early retirement next month: done in seconds on the real
# clock (harness.people).
LIVE_LABEL = "illness-search-attributes"


@contextlib.contextmanager
def _demo_world() -> Iterator[tuple[sessionmaker[Session], DepartmentSimulator]]:
    """Sessions on a throwaway migrated SQLite database (``harness.scratch``) and a department
    simulator of its own, for one demo run."""
    with (
        tempfile.TemporaryDirectory(prefix="retirement-demo-") as folder,
        sqlite_database(Path(folder)) as url,
    ):
        engine = make_engine(url)
        departments = DepartmentSimulator(Path(folder) / "departments")
        try:
            departments.start()
            yield make_sessionmaker(engine), departments
        finally:
            departments.stop()
            engine.dispose()


@contextlib.contextmanager
def _banner_to_stderr() -> Iterator[None]:
    """The dev server prints its banner on the stdout it inherits, which would corrupt
    ``--json``; it is spawned while file descriptor 1 points at stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


async def _live_history() -> str:
    """The history of one case run to completion on a dev server with search attributes."""
    policy = load_policy()
    with _demo_world() as (sessions, departments), departments.platform() as platform:
        with _banner_to_stderr():
            env = await WorkflowEnvironment.start_local(
                data_converter=demo_data_converter(),
                dev_server_existing_path=temporal_cli(),
                search_attributes=search.ALL,
                dev_server_log_level="error",
                runtime=runtime(),
                interceptors=[QueriesOnlyToClosedRuns()],
            )
        try:
            task_queue = f"demo-{uuid.uuid4().hex[:8]}"
            person, declaration = early_retiree(0, organisation="demo-employer")
            departments.seed(person.id_number, person.name, actual_years=Decimal(16))
            with ThreadPoolExecutor(max_workers=16) as executor:
                systems = DepartmentSystems.over(platform, sessions)
                async with build_worker(env.client, task_queue, systems, executor):
                    started = await start_case(
                        env.client,
                        person=person,
                        policy=policy,
                        secret=SECRET,
                        task_queue=task_queue,
                        declaration=declaration,
                        declared_by=organisation_actor(person),
                        request_id="declare-live",
                    )
                    driver = Driver(
                        started.handle,
                        person,
                        started.person_key,
                        Script(declaration=declaration),
                        view=ReadModelView(sessions, started.case_id),
                    )
                    await driver.run(timeout=120)
                    await started.handle.result()
                    return (await started.handle.fetch_history()).to_json()
        finally:
            await env.shutdown()


async def _demo(record: bool) -> tuple[list[DemoRun], dict[str, str]]:
    policy = load_policy()
    with _demo_world() as (sessions, departments), departments.platform() as platform:
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=demo_data_converter(),
            test_server_existing_path=temporal_test_server(),
            runtime=runtime(),
            interceptors=[QueriesOnlyToClosedRuns()],
        )
        try:
            task_queue = f"demo-{uuid.uuid4().hex[:8]}"
            with ThreadPoolExecutor(max_workers=16) as executor:
                systems = DepartmentSystems.over(platform, sessions)
                async with build_worker(env.client, task_queue, systems, executor):
                    runs = await start_demo_cases(
                        env.client,
                        sessions,
                        departments,
                        policy=policy,
                        secret=SECRET,
                        task_queue=task_queue,
                        search_attributes=False,
                    )

                    async def advance(moment: Any) -> None:
                        delta = moment - await env.get_current_time()
                        if delta.total_seconds() > 0:
                            await env.sleep(delta)

                    await drive_together(runs, clock=env.get_current_time, advance=advance)
                    for run in runs:
                        await run.driver.handle.result()
                        await run.driver.step(None)  # the final snapshot
                    histories = {}
                    if record:
                        for run in runs:
                            history = await run.driver.handle.fetch_history()
                            histories[run.case.label] = history.to_json()
        finally:
            await env.shutdown()
    return runs, histories
