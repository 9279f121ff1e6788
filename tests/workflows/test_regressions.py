"""Histories that the current workflow cannot replay: known bugs, kept so their fix is proven.

``update-during-projection.json`` comes from a chaos run on 2026-11-30 (encrypted with the
throwaway key of ``service.cluster.KEYS``). In one workflow task the worker resolved the provident
fund's account step — which opened the task ``fund-withdrawal-7`` — and ran the read-model
projection as a local activity; the clerk's decision on that task arrived while the local activity
held the task open and was accepted in a second activation.
Replaying, the SDK hands the update to the same activation as the step's result and runs the
update handler first: the task does not exist yet (``KeyError``), or, with handlers that wait for
it, the update's acceptance comes before the projector's upsert and the replay is
non-deterministic. A case in this state fails every workflow task once the worker has to replay it
(a restart, a cache eviction, a query to a closed case). See docs/reliability.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from service.cluster import KEYS
from service.settings import Settings
from service.temporal import data_converter
from workflows.case import RetirementCase

HISTORY = Path(__file__).parent / "regressions" / "update-during-projection.json"


@pytest.mark.xfail(strict=True, reason="an update accepted while a projection held the task open")
async def test_an_update_accepted_during_a_projection_replays() -> None:
    history = WorkflowHistory.from_json(HISTORY.stem, HISTORY.read_text(encoding="utf-8"))
    converter = data_converter(Settings(payload_keys=KEYS, payload_key_id="run-1"))
    replayer = Replayer(workflows=[RetirementCase], data_converter=converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
