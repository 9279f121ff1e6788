"""Cases recorded before the 2026-12 patches, on paths the demo corpus never takes, replay against
the current code: the old path of each patch is kept (``patched_paths.py`` says how they were
recorded and why they are never re-recorded).

- ``department-issue-refused-again``: social insurance refused to read the record four times in a
  row; before ``department-issue-escalation-2026-12`` the third and fourth were plain tasks.
- ``household-mismatch-confirmed``: public security confirmed a mismatch at the declaration and
  the registry answered the same at pre-review; before ``household-confirmed-once-2026-12`` the
  clerk was asked again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from harness.demo_command import demo_data_converter
from tests.workflows.patched_paths import STORIES
from workflows.case import RetirementCase

FOLDER = Path(__file__).parent / "patched-paths"


def test_every_story_is_recorded() -> None:
    assert {p.stem for p in FOLDER.glob("*.json")} == set(STORIES)


@pytest.mark.parametrize("label", sorted(STORIES))
async def test_recorded_before_the_patch_replays(label: str) -> None:
    path = FOLDER / f"{label}.json"
    history = WorkflowHistory.from_json(label, path.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=[RetirementCase], data_converter=demo_data_converter())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
