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
from harness.replay_gate import (
    DEADLOCK_MARKS,
    ReplayFailure,
    deadlock_detected,
    fetch_histories,
    replay_histories,
    sample,
)
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


async def test_a_replay_the_deadlock_detector_stopped_is_replayed_again(tmp_path: Path) -> None:
    history = await _stalling_history()
    folder = tmp_path / "run"
    STALLS[:] = [2.1]  # over the SDK's two seconds, once: a busy process, not the history
    report = await replay_histories(
        [history], demo_data_converter(), folder=folder, workflows=[Stalling]
    )
    assert (report.replayed, report.retried, report.failures) == (1, 1, [])
    # Stopped every time it is tried (here, the once allowed): a failure, kept like any other.
    STALLS[:] = [2.1]
    report = await replay_histories(
        [history], demo_data_converter(), folder=folder, workflows=[Stalling], timeout_retries=0
    )
    [failure] = report.failures
    assert report.retried == 0 and any(mark in failure.message for mark in DEADLOCK_MARKS)
    assert failure.history_file == str(folder / f"{history.workflow_id}.json")


def test_the_deadlock_detector_is_told_from_a_history_that_does_not_replay() -> None:
    # As CI's load run printed it (the failure's message encrypted by the payload codec).
    seen = (
        "RuntimeError: 4: Workflow activation completion failed: Failure { failure: Some(Failure"
        ' { message: "Encoded failure", failure_info: Some(ApplicationFailureInfo('
        'ApplicationFailureInfo { r#type: "_DeadlockError", non_retryable: false }) }) }'
    )
    assert deadlock_detected(RuntimeError(seen))
    assert deadlock_detected(RuntimeError("[TMPRL1101] Potential deadlock detected"))
    assert not deadlock_detected(RuntimeError("Nondeterminism error: Update not found"))
    assert not deadlock_detected(None)


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
