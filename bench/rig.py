"""The machinery one benchmark run stands on: the project's dev server, worker and API
(``harness.cluster``), the raw baseline's worker, a client for each, and the database."""

from __future__ import annotations

import compileall
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from bench.people import EMPLOYER
from contracts.declarations import Declaration
from contracts.people import Actor, Person, Role
from db.models import TaskRow
from db.session import make_engine, make_sessionmaker
from domain.policy import Policy
from harness.cluster import Cluster
from harness.scratch import scratch_database
from policies import load_policy
from service.case_start import StartedCase, start_case
from service.temporal import connect

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "domain", "policies", "contracts", "activities", "adapters", "workflows", "db", "service",
    "api", "cli", "bench", "simulator", "harness",
)  # fmt: skip

CHUNK = 5_000  # case ids per IN list
EMPLOYER_ACTOR = Actor(id="bench-officer", role=Role.EMPLOYER, organisation=EMPLOYER)


@dataclass
class Rig:
    folder: Path
    database: str  # "sqlite" or "postgres"
    cluster: Cluster
    client: Client  # the project's: encrypting data converter
    raw_client: Client  # Temporal's defaults, for the baseline
    raw_queue: str
    raw_worker: subprocess.Popen[bytes]
    sessions: sessionmaker[Session]
    policy: Policy

    @property
    def worker_pid(self) -> int:
        return _pid(self.cluster.worker)

    @property
    def activity_worker_pid(self) -> int | None:
        """The activities' worker process, when the worker is split (``Cluster.split_worker``)."""
        process = self.cluster.activity_worker
        return None if process is None else process.pid

    @property
    def server_pid(self) -> int:
        return _pid(self.cluster.server)

    @property
    def departments_pid(self) -> int:
        return _pid(self.cluster.departments.process)

    @property
    def api_pid(self) -> int:
        return _pid(self.cluster.api)

    async def start(self, who: Person, declaration: Declaration) -> StartedCase:
        """Start a declared case (its department records seeded beforehand)."""
        return await start_case(
            self.client,
            person=who,
            policy=self.policy,
            secret=self.cluster.settings.case_secret,
            task_queue=self.cluster.settings.temporal_task_queue,
            declaration=declaration,
            declared_by=EMPLOYER_ACTOR,
            request_id=f"declare-{who.id_number[-8:]}",
        )

    def open_tasks(self, kind: str, case_ids: list[str]) -> int:
        """Open tasks of ``kind`` in the read model, of the cases ``case_ids``."""
        total = 0
        with self.sessions() as db:
            for first in range(0, len(case_ids), CHUNK):  # within the drivers' parameter limits
                query = select(func.count()).where(
                    TaskRow.kind == kind,
                    TaskRow.status == "open",
                    TaskRow.case_id.in_(case_ids[first : first + CHUNK]),
                )
                total += db.scalar(query) or 0
        return total

    def open_task_ids(self, kind: str, case_ids: list[str]) -> dict[str, str]:
        """case id -> task id of the open task of ``kind``, for the cases projected so far."""
        with self.sessions() as db:
            rows = db.execute(
                select(TaskRow.case_id, TaskRow.task_id).where(
                    TaskRow.kind == kind,
                    TaskRow.status == "open",
                    TaskRow.case_id.in_(case_ids),
                )
            )
            return {case_id: task_id for case_id, task_id in rows}


def _pid(process: subprocess.Popen[bytes] | None) -> int:
    if process is None:
        raise RuntimeError("the process has not been started")
    return process.pid


def compile_project() -> None:
    """Bytecode for the project's modules, as a deployed image has (Dockerfile).

    Temporal's workflow sandbox imports the workflow's modules afresh for every workflow it
    starts or brings back into its cache. Without bytecode on disk — ``PYTHONDONTWRITEBYTECODE``
    is set in the image and on development machines — each of those imports compiles
    ``workflows/*.py`` from source, which was an eighth of the worker's time at scale."""
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
    compileall.compile_file(ROOT / "worker.py", quiet=1)


@asynccontextmanager
async def rig(
    folder: Path,
    database: str = "sqlite",
    *,
    threads: int = 16,
    bytecode: bool = True,
    split_worker: bool = False,
) -> AsyncIterator[Rig]:
    """Everything started on free ports in ``folder``; stopped afterwards."""
    if bytecode:
        compile_project()
    with scratch_database(database, folder, application_name="retirement-bench") as url:
        cluster = Cluster(folder, url, activity_threads=threads, split_worker=split_worker)
        engine = make_engine(url)
        raw_worker: subprocess.Popen[bytes] | None = None
        try:
            cluster.start_server()
            cluster.start_departments()
            cluster.start_worker()
            cluster.start_api()
            raw_queue = f"raw-{uuid.uuid4().hex[:6]}"
            log = (folder / "raw-worker.log").open("ab")
            raw_worker = subprocess.Popen(  # noqa: S603 - our own module and fixed arguments
                [
                    sys.executable, "-m", "bench.raw",
                    cluster.settings.temporal_address, raw_queue, str(threads),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            yield Rig(
                folder=folder,
                database=database,
                cluster=cluster,
                client=await connect(cluster.settings),
                raw_client=await Client.connect(cluster.settings.temporal_address),
                raw_queue=raw_queue,
                raw_worker=raw_worker,
                sessions=make_sessionmaker(engine),
                policy=load_policy(),
            )
        finally:
            if raw_worker is not None and raw_worker.poll() is None:
                raw_worker.terminate()
                try:
                    raw_worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    raw_worker.kill()
            cluster.stop()
            engine.dispose()
