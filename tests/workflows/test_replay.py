"""Recorded histories of every demo path replay against the current workflow code.

A change that would break a case already running (a months-long workflow outlives many deploys)
fails here instead of in production. Re-record with ``retirement demo --record-histories
tests/workflows/histories`` only when the change is made safe with ``workflow.patched``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from service.temporal import DATA_CONVERTER
from workflows.case import RetirementCase

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_the_corpus_covers_every_path() -> None:
    names = {path.stem for path in HISTORIES}
    assert {
        "normal",
        "special-job",
        "illness",
        "flexible-early",
        "flexible-delay",
        "no-employer",
        "returned-for-correction",
        "roster-start",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=[RetirementCase], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
