"""Recorded histories of every demo path replay against the current workflow code.

A change that would break a case already running (a months-long workflow outlives many deploys)
fails here instead of in production. The corpus keeps one folder per recorded version of the
workflow (``histories/v1``, ``v2``, ...): add a new folder with ``make record-histories`` when the
workflow changes, and keep the old ones for as long as cases of that version may be running (see
docs/versioning.md). The recordings are encrypted with the demo's own committed key ring.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from harness.demo_command import demo_data_converter
from workflows.case import RetirementCase

CORPUS = Path(__file__).parent / "histories"
HISTORIES = sorted(CORPUS.glob("v*/*.json"))
LATEST = max(CORPUS.glob("v*"), key=lambda p: int(p.name[1:]))


def test_the_latest_recording_covers_every_path() -> None:
    names = {path.stem for path in LATEST.glob("*.json")}
    assert {
        "normal",
        "special-job",
        "illness",
        "flexible-early",
        "flexible-delay",
        "no-employer",
        "returned-for-correction",
        "roster-start",
        "illness-search-attributes",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=[RetirementCase], data_converter=demo_data_converter())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
