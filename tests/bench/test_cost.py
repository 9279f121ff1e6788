"""The cost of a case counts what the raw engine also does as steps, and the projection and
markers as the project's own spend."""

from __future__ import annotations

from pathlib import Path

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from bench.cost import case_cost
from bench.raw import plan_from_history

CORPUS = Path(__file__).parents[1] / "workflows" / "histories"


def test_the_projection_activity_is_spend_not_a_step() -> None:
    local = case_cost(_history("v3"))  # projected by a local activity
    after_commit = case_cost(_history("v4"))  # projected by an ordinary activity
    assert after_commit.steps == local.steps == 30  # the same case, the same engine work
    assert local.projections == 0 and after_commit.projections == 25
    assert after_commit.activities == local.activities == 22
    # v4 records the patch's marker, which is neither a local activity nor billed.
    assert local.local_activities == 28 and after_commit.local_activities == 0
    assert after_commit.billable_actions == local.billable_actions - 2


def _history(version: str) -> list[HistoryEvent]:
    path = CORPUS / version / "normal.json"
    return list(WorkflowHistory.from_json(path.stem, path.read_text()).events)


def test_the_raw_baseline_does_the_engine_work_not_the_projections() -> None:
    """The raw engine's plan mirrors a case's department and notification steps, in the same
    batches, whether the case projected itself by local activities or by ordinary ones."""
    local = plan_from_history(_history("v3")).segments
    after_commit = plan_from_history(_history("v4")).segments
    assert sum(map(sum, local)) == sum(map(sum, after_commit)) == 22
    assert local == after_commit
