"""A chaos, load or benchmark run told to stop (SIGTERM, as ``kill`` or a CI timeout sends)
stops the processes it started instead of leaving them running."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RUN = """
import asyncio, sys, tempfile
from pathlib import Path
from harness.scratch import sqlite_database
from harness.cluster import Cluster, run_stoppable

async def main() -> None:
    with tempfile.TemporaryDirectory() as folder, sqlite_database(Path(folder)) as url:
        cluster = Cluster(Path(folder), url)
        try:
            cluster.start_server()
            print(cluster.server.pid, flush=True)
            await asyncio.sleep(600)
        finally:
            cluster.stop()

run_stoppable(main())
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sigterm_stops_the_runs_processes() -> None:
    run = subprocess.Popen(
        [sys.executable, "-c", RUN],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stdout is not None and run.stderr is not None
        line = run.stdout.readline()
        if not line.strip():  # the run died before its dev server was up: say why
            run.wait(timeout=30)
            raise AssertionError(f"the run exited {run.returncode}: {run.stderr.read()[-3000:]}")
        server = int(line)
        assert _alive(server)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 128 + signal.SIGTERM, run.stderr.read() if run.stderr else ""
        deadline = time.monotonic() + 10
        while _alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(server), "the dev server was left running"
    finally:
        if run.poll() is None:
            run.kill()


def test_the_helper_runs_a_coroutine_to_its_result() -> None:
    from harness.cluster import run_stoppable

    async def answer() -> int:
        return 42

    assert run_stoppable(answer()) == 42
