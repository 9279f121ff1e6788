"""The whole service as separate local processes on free ports, for chaos, load and benchmark
runs: the Temporal dev server (persistent database, so a restart keeps the histories), the
department simulator (the departments' systems, with a database of their own), the worker and
the API (uvicorn), each of which can be killed and restarted for real.

The processes get their configuration the way production does, through the environment
(``service.settings``); the API trusts a signing key made in the run's folder, and ``token``
mints bearer tokens for the people the run plays.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from api.devauth import ensure_dev_keys, mint
from contracts import search
from harness.binaries import temporal_cli
from harness.department_simulator import DepartmentSimulator
from harness.ports import free_port, wait_for_port, wait_for_temporal
from service.settings import Settings

# A throwaway key ring: the run's payloads are encrypted as in production, with a key that
# protects nothing.
T = TypeVar("T")

KEYS = '{"run-1": "Y2hhb3MtcnVuLXBheWxvYWQta2V5LTMyLWJ5dGVzISE="}'


class Cluster:
    """The dev server, the worker and the API as processes that can be killed and restarted."""

    def __init__(
        self,
        folder: Path,
        database_url: str,
        *,
        activity_threads: int = 16,
        split_worker: bool = False,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """``environment``: more settings for the worker and the API (e.g. ``OUTBOX_LEASE``)."""
        self.folder = folder
        self.environment = dict(environment or {})
        # Split: workflow tasks in ``worker``, activities in ``activity_worker`` (WORKER_RUNS).
        self.split_worker = split_worker
        self.settings = Settings(
            temporal_address=f"127.0.0.1:{free_port()}",
            temporal_task_queue=f"run-{uuid.uuid4().hex[:6]}",
            database_url=database_url,
            payload_keys=KEYS,
            case_id_key=uuid.uuid4().hex,
            activity_threads=activity_threads,
            auth_jwks_file=folder / "keys" / "dev-jwks.json",
        )
        self.port = int(self.settings.temporal_address.rsplit(":", 1)[1])
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self._private_key, _ = ensure_dev_keys(folder / "keys")
        self.departments = DepartmentSimulator(folder, log_name="departments.log")
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.activity_worker: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of the worker and the API: the run's settings."""
        s = self.settings
        return {
            **os.environ,
            "TEMPORAL_ADDRESS": s.temporal_address,
            "TEMPORAL_TASK_QUEUE": s.temporal_task_queue,
            "DATABASE_URL": s.database_url,
            "PAYLOAD_KEYS": KEYS,
            "CASE_ID_KEY": s.case_id_key.get_secret_value(),
            "ACTIVITY_THREADS": str(s.activity_threads),
            "AUTH_JWKS_FILE": str(s.auth_jwks_file),
            "LOG_LEVEL": "WARNING",
            **self.departments.env(),
            **self.environment,
            **extra,
        }

    def mint(self, claims: dict[str, Any]) -> str:
        """A bearer token the run's API accepts."""
        s = self.settings
        return mint(
            self._private_key, issuer=s.auth_issuer, audience=s.auth_audience, claims=claims
        )

    def token(self, claims: dict[str, Any]) -> dict[str, str]:
        """Headers with a bearer token the run's API accepts."""
        return {"Authorization": f"Bearer {self.mint(claims)}"}

    def start_server(self) -> None:
        log = (self.folder / "temporal.log").open("ab")
        self.server = subprocess.Popen(  # noqa: S603 - our own binary and fixed arguments
            [
                temporal_cli(), "server", "start-dev", "--ip", "127.0.0.1",
                "--port", str(self.port), "--ui-port", str(free_port()),
                "--db-filename", str(self.folder / "temporal.db"), "--log-level", "error",
                *search.dev_server_args(),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_temporal(self.settings.temporal_address, self.server, timeout=60)

    def start_departments(self) -> None:
        """The department simulator; the worker reaches it at the URL in :meth:`env`."""
        self.departments.start()

    def kill_departments(self) -> None:
        """Every department's system gone at once (SIGKILL): the worker's steps fail and
        Temporal retries them until :meth:`start_departments`."""
        self.departments.kill()

    def start_worker(self) -> None:
        """The worker, or with ``split_worker`` its two processes."""
        if not self.split_worker:
            self.worker = self._worker("everything", "worker.log")
            return
        self.worker = self._worker("workflows", "worker.log")
        self.activity_worker = self._worker("activities", "activity-worker.log")

    def _worker(self, runs: str, log_name: str) -> subprocess.Popen[bytes]:
        log = (self.folder / log_name).open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "worker"],
            env=self.env(WORKER_METRICS_ADDRESS=f"127.0.0.1:{free_port()}", WORKER_RUNS=runs),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_api(self, **extra_env: str) -> None:
        log = (self.folder / "api.log").open("ab")
        self.api = subprocess.Popen(  # noqa: S603 - our own module and fixed arguments
            [
                sys.executable, "-m", "uvicorn", "web.app:app", "--host", "127.0.0.1",
                "--port", str(self.api_port), "--no-access-log", "--log-level", "warning",
            ],
            env=self.env(**extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_port("127.0.0.1", self.api_port, self.api, timeout=60)

    def kill_worker(self) -> None:
        _kill(self.worker)
        _kill(self.activity_worker)  # None when the worker is not split: nothing to kill

    def restart_server(self) -> None:
        _kill(self.server)
        self.start_server()

    def stop(self) -> None:
        processes = (
            self.api,
            self.worker,
            self.activity_worker,
            self.departments.process,
            self.server,
        )
        for process in processes:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.departments.stop()

    def keep_logs(self, destination: Path) -> Path:
        """Copy the processes' logs out of the run's temporary folder (a failed run's evidence)."""
        destination.mkdir(parents=True, exist_ok=True)
        for log in self.folder.glob("*.log"):
            shutil.copy2(log, destination / log.name)
        return destination

    def log_tail(self, name: str, lines: int = 20) -> str:
        """The end of a process's log (``temporal``, ``departments``, ``worker``, ``api``), for a
        failure report."""
        path = self.folder / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_stoppable(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, where SIGTERM or SIGINT cancels the run, so the ``finally`` blocks
    that stop a cluster's processes run. Without it a run that was told to stop died at once and
    left its dev server, worker and API running. Exits with 143 when stopped so."""

    async def guarded() -> T:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - asyncio.run always runs this in a task
            raise RuntimeError("not running in a task")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        return await main

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        print("stopped: the run's processes were shut down", file=sys.stderr, flush=True)
        raise SystemExit(128 + signal.SIGTERM) from None


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait()
