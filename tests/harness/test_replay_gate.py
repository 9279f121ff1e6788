"""The replay gate flags an unreplayable history and keeps it for the corpus, passes a
replayable one, and fetches every run of a case (without a server here: the fetch is faked)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, cast

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from harness.binaries import temporal_test_server
from harness.cluster import KEYS
from harness.demo_command import demo_data_converter
from harness.replay_gate import ReplayFailure, fetch_histories, replay_histories, sample
from service.settings import Settings
from service.temporal import data_converter

WORKFLOWS = Path(__file__).parent.parent / "workflows"
# Kept unreplayable (tests/workflows/test_regressions.py, a strict xfail): should a future SDK
# replay it, that test fails too, and this one needs another unreplayable history.
SPLIT = WORKFLOWS / "regressions" / "update-during-projection.json"
NORMAL = WORKFLOWS / "histories" / "v3" / "normal.json"


def _history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


async def test_an_unreplayable_history_fails_the_gate_and_is_kept(tmp_path: Path) -> None:
    history = _history(SPLIT)
    converter = data_converter(Settings(payload_keys=KEYS, payload_key_id="run-1"))
    report = await replay_histories([history], converter, folder=tmp_path / "run")
    assert report.replayed == 1
    assert not report.ok
    [failure] = report.failures
    assert failure.workflow_id == SPLIT.stem
    assert failure.message  # the SDK's reason, e.g. a KeyError from the update handler
    kept = tmp_path / "run" / f"{SPLIT.stem}.json"
    assert failure.history_file == str(kept)
    # Ready for tests/workflows/regressions/: the same history, read back as the corpus does.
    assert _history(kept).events == history.events


async def test_a_corpus_history_passes_the_gate(tmp_path: Path) -> None:
    report = await replay_histories(
        [_history(NORMAL)], demo_data_converter(), folder=tmp_path / "run"
    )
    assert report.replayed == 1
    assert report.ok and report.failures == []
    assert not (tmp_path / "run").exists()  # nothing written for a run that passes


STALLS: list[float] = []  # seconds the next replays of Stalling block for, one each


@workflow.defn(sandboxed=False)  # the stall reads this module's list, which a sandbox would copy
class Stalling:
    """Blocks its thread (as a long garbage collection would) when a stall is queued."""

    @workflow.run
    async def run(self) -> str:
        if STALLS and workflow.unsafe.is_replaying():
            time.sleep(STALLS.pop(0))
        return "done"


async def _stalling_history() -> WorkflowHistory:
    async with (
        await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=temporal_test_server()
        ) as env,
        Worker(env.client, task_queue="stall", workflows=[Stalling]),
    ):
        handle = await env.client.start_workflow(
            Stalling.run, id=f"stall-{uuid.uuid4().hex[:6]}", task_queue="stall"
        )
        assert await handle.result() == "done"
        return await handle.fetch_history()


async def test_a_replay_that_holds_its_thread_past_the_deadlock_timeout_still_replays(
    tmp_path: Path,
) -> None:
    """As a long garbage collection in a big process would: the SDK's deadlock detector (two
    seconds) would fail the replay, or leave it waiting for ever; the gate judges determinism
    only."""
    history = await _stalling_history()
    STALLS[:] = [2.2]
    report = await replay_histories(
        [history], demo_data_converter(), folder=tmp_path / "run", workflows=[Stalling]
    )
    assert STALLS == []  # it did stall
    assert (report.replayed, report.failures) == (1, [])


class _Handle:
    def __init__(self, client: _FakeClient, workflow_id: str, run_id: str | None) -> None:
        self.client, self.workflow_id, self.run_id = client, workflow_id, run_id

    async def fetch_history(self) -> WorkflowHistory:
        if self.workflow_id == "missing":
            raise RuntimeError("workflow not found")
        runs = self.client.runs[self.workflow_id]
        run = self.run_id or runs[-1]
        previous = runs[runs.index(run) - 1] if runs.index(run) else ""
        started = HistoryEvent(
            event_id=1, event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        )
        attributes = started.workflow_execution_started_event_attributes
        attributes.original_execution_run_id = run
        attributes.continued_execution_run_id = previous
        return WorkflowHistory(workflow_id=self.workflow_id, events=[started])


class _FakeClient:
    def __init__(self, runs: dict[str, list[str]]) -> None:
        self.runs = runs

    def get_workflow_handle(self, workflow_id: str, *, run_id: str | None = None) -> Any:
        return _Handle(self, workflow_id, run_id)


async def test_every_run_of_a_case_is_fetched_and_a_missing_case_is_a_failure() -> None:
    client = _FakeClient({"a": ["a1"], "b": ["b1", "b2", "b3"], "c": ["c1"]})
    errors: list[ReplayFailure] = []
    fetched = [
        (h.workflow_id, h.run_id)
        async for h in fetch_histories(
            cast(Client, client), ["a", "missing", "b", "c"], concurrency=2, errors=errors
        )
    ]
    assert sorted(fetched) == [("a", "a1"), ("b", "b1"), ("b", "b2"), ("b", "b3"), ("c", "c1")]
    assert [(e.workflow_id, e.history_file) for e in errors] == [("missing", None)]
    assert "workflow not found" in errors[0].message


def test_a_sample_is_bounded_and_spread() -> None:
    ids = [str(n) for n in range(10_000)]
    taken = sample(ids, 200)
    assert len(taken) == 200 and taken[0] == "0" and taken[-1] == "9950"
    assert sample(ids[:50], 200) == ids[:50]
    assert sample(ids, 0) == []
