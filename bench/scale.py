"""Scale: many open cases waiting at pre-review on one dev server — how fast they start, the
worker's resident memory, the server's database size and the inbox's latency at that size; and
a sample of their histories replayed (``harness.replay_gate``)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from bench.latency import CLERK
from bench.people import people, seed
from bench.rig import Rig
from bench.stats import files_mb, rss_mb, summary_ms
from contracts.workflow import TaskKind
from harness.exactly_once import history_tally
from harness.replay_gate import ReplayReport, replay_gate
from harness.replay_gate import sample as sample_of

STARTS_IN_FLIGHT = 64
INBOX_SAMPLES = 200
HISTORY_SAMPLE = 100  # cases whose histories are read for workflow tasks that timed out
REPLAY_SAMPLE = 200  # cases whose histories are replayed (all of them would take minutes)


@dataclass
class ScaleFigures:
    open_cases: int
    seed_seconds: float
    start_seconds: float
    starts_per_second: float
    settle_seconds: (
        float  # from the first start until every case is at pre-review in the read model
    )
    settled_per_second: float
    worker_rss_mb_before: float
    worker_rss_mb: float
    worker_rss_mb_peak: float
    # The activities' worker when the worker is split (the figures above are the workflows'
    # worker then, which holds the cached cases): its peak, or None.
    activity_worker_rss_mb_peak: float | None
    api_rss_mb: float
    server_db_mb: float
    read_model_db_mb: float | None
    inbox_total: int
    inbox_ms: dict[str, float]
    # Workflow tasks left on the worker's sticky queue past worker.STICKY_TIMEOUT in a sample of
    # the cases: a worker too busy to take its own cases' tasks hands them to a full replay.
    sticky_timeouts_in_sample: int
    history_sample: int
    # A sample of the open cases' histories (at most REPLAY_SAMPLE) replayed against the workflow
    # code; ``sampled_from`` says of how many.
    replay: ReplayReport


async def run(
    rig: Rig,
    first_serial: int,
    count: int,
    http: httpx.AsyncClient,
    settle_timeout: float,
    replay_run: str,
) -> ScaleFigures:
    """``replay_run``: where histories that do not replay are kept (``harness.replay_gate``)."""
    cast = people(first_serial, count)
    rss_before = rss_mb(rig.worker_pid)
    began = time.monotonic()

    def seed_all() -> None:
        for who, _ in cast:
            seed(rig.cluster.departments, who, full=False)

    await asyncio.to_thread(seed_all)
    seed_seconds = time.monotonic() - began

    kind = TaskKind.PRE_REVIEW.value
    gate = asyncio.Semaphore(STARTS_IN_FLIGHT)
    peak = rss_before
    activities_peak = 0.0

    def activities_rss() -> float:
        pid = rig.activity_worker_pid
        return 0.0 if pid is None else rss_mb(pid)

    case_ids: list[str] = [""] * count

    async def start_one(index: int) -> None:
        async with gate:
            who, declaration = cast[index]
            case_ids[index] = (await rig.start(who, declaration)).case_id

    began = time.monotonic()
    await asyncio.gather(*(start_one(i) for i in range(count)))
    start_seconds = time.monotonic() - began

    deadline = began + settle_timeout
    while True:
        peak = max(peak, rss_mb(rig.worker_pid))
        activities_peak = max(activities_peak, activities_rss())
        # Counted among this phase's own cases: a case of an earlier phase whose pre-review
        # task was still open when the phase began, and then decided, once made it wait forever.
        waiting = await asyncio.to_thread(rig.open_tasks, kind, case_ids)
        if waiting >= count:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {waiting} of {count} cases reached pre-review")
        await asyncio.sleep(1.0)
    settle_seconds = time.monotonic() - began

    # Let the last workflow tasks and projections finish before reading memory and sizes.
    await asyncio.sleep(10)
    rss = rss_mb(rig.worker_pid)
    peak = max(peak, rss)
    activities_peak = max(activities_peak, activities_rss())

    headers = rig.cluster.token(CLERK)
    total = 0
    for _ in range(5):  # warm-up: connections, the first query plans
        total = (await http.get("/inbox", headers=headers)).json()["total"]
    samples = []
    for _ in range(INBOX_SAMPLES):
        t = time.perf_counter()
        response = await http.get("/inbox", headers=headers)
        samples.append(time.perf_counter() - t)
        if response.status_code != 200:
            raise RuntimeError(f"inbox {response.status_code}: {response.text[:300]}")

    sample = case_ids[:: max(1, count // HISTORY_SAMPLE)]
    stranded = (await history_tally(rig.client, sample)).stranded_seconds
    replayed = sample_of(case_ids, REPLAY_SAMPLE)
    replay = await replay_gate(
        rig.client,
        replayed,
        run=replay_run,
        sampled_from=count if len(replayed) < count else None,
    )

    folder = rig.folder
    temporal_db = folder / "temporal.db"
    read_model = folder / "retirement.db"
    return ScaleFigures(
        open_cases=count,
        seed_seconds=round(seed_seconds, 1),
        start_seconds=round(start_seconds, 1),
        starts_per_second=round(count / start_seconds, 1),
        settle_seconds=round(settle_seconds, 1),
        settled_per_second=round(count / settle_seconds, 1),
        worker_rss_mb_before=rss_before,
        worker_rss_mb=rss,
        worker_rss_mb_peak=peak,
        activity_worker_rss_mb_peak=(
            activities_peak if rig.activity_worker_pid is not None else None
        ),
        api_rss_mb=rss_mb(rig.api_pid),
        server_db_mb=files_mb(
            temporal_db,
            temporal_db.with_name("temporal.db-wal"),
            temporal_db.with_name("temporal.db-shm"),
        ),
        read_model_db_mb=(
            files_mb(read_model, read_model.with_name("retirement.db-wal"))
            if rig.database == "sqlite"
            else None
        ),
        inbox_total=total,
        inbox_ms=summary_ms(samples),
        sticky_timeouts_in_sample=len(stranded),
        history_sample=len(sample),
        replay=replay,
    )
