"""Histories the current SDK cannot replay, kept so a change in its behaviour is noticed.

``update-during-projection.json`` comes from a chaos run on 2026-11-30 (encrypted with the
throwaway key of ``service.cluster.KEYS``). A worker was killed; the provident fund's account step
then completed, opening the task ``fund-withdrawal-7``, and its workflow task waited on the dead
worker's sticky queue. Meanwhile the restarted worker answered the chaos driver's query with that
step already applied, and the clerk's decision on the new task was attached to the same workflow
task. Live, the worker applied the step and then the decision; replaying, the SDK runs the update
handler first, before the step's result: the task does not exist yet (``KeyError``).

The project's fix is that nobody acts on a query's answer (``service/driver.py``; the API's clients
act on the read model), so the history cannot be made again by our own clients; the workflow
cannot absorb it. If a future SDK replays it, this strict xfail fails: then the note in
docs/reliability.md ("Found and fixed: a case that could not be replayed") should be revised.
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


@pytest.mark.xfail(strict=True, reason="an update replayed before events a query had applied early")
async def test_an_update_accepted_during_a_projection_replays() -> None:
    history = WorkflowHistory.from_json(HISTORY.stem, HISTORY.read_text(encoding="utf-8"))
    converter = data_converter(Settings(payload_keys=KEYS, payload_key_id="run-1"))
    replayer = Replayer(workflows=[RetirementCase], data_converter=converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
