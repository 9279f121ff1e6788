"""Histories the current SDK cannot replay, kept so a change in its behaviour is noticed.

``update-during-projection.json`` comes from a chaos run on 2026-11-30 (encrypted with the
throwaway key of ``harness.cluster.KEYS``). A worker was killed; a query sent to the case then
waited on the dead worker's sticky queue; the provident fund's account step completed, and its
workflow task waited there too. The restarted worker answered the query by applying the step as
live work (opening ``fund-withdrawal-7`` and writing the read model from a local activity), and
the clerk's decision on that task was attached to the waiting workflow task. Live, the worker
applied the step and then the decision; replaying, the SDK runs the update first, before the
step's result. With the ``decide`` handler waiting for its task (no more ``KeyError``) the
replay still fails: the update's acceptance comes before the step's commands ("Update machine
does not handle this event").

The workflow cannot absorb that; the project makes it impossible on its own paths (no query to
a running case, the read model written only after commit), and ``retirement doctor`` heals a case
split from outside (docs/reliability.md, ``tests/integration/test_split_task.py``). If a future
SDK replays this history, this strict xfail fails: revise docs/reliability.md then.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from harness.cluster import KEYS
from service.settings import Settings
from service.temporal import data_converter
from workflows.case import RetirementCase

HISTORY = Path(__file__).parent / "regressions" / "update-during-projection.json"


@pytest.mark.xfail(
    strict=True, reason="an update replayed before events a query had applied early (SDK core)"
)
async def test_an_update_accepted_during_a_projection_replays() -> None:
    history = WorkflowHistory.from_json(HISTORY.stem, HISTORY.read_text(encoding="utf-8"))
    converter = data_converter(Settings(payload_keys=KEYS, payload_key_id="run-1"))
    replayer = Replayer(workflows=[RetirementCase], data_converter=converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
