"""The chaos and load runs' figures print as JSON (a long run must not die at its last line)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from temporalio.client import WorkflowHistory

from harness.chaos import Figures
from harness.exactly_once import DecisionAudit, HistoryTally, Tally, Verdict
from harness.load import LoadFigures
from harness.replay_gate import ReplayFailure, ReplayReport
from service.reconcile import SideEffects

VERDICT = Verdict(
    decisions=DecisionAudit(applied=6, doubled=0, unaudited=0),
    effects=SideEffects(1, 0, 1, 0, 4, 0, {}),
    messages=4,
    drift=[],
    histories=HistoryTally(
        retries={"a": 2},
        completed={"notifications.send": 4},
        stranded_seconds=[],
    ),
    replay=ReplayReport(replayed=1, cases=1),
)


def test_load_figures_print_as_json() -> None:
    figures = LoadFigures(cases=1, clerks=4, database="sqlite", verdict=VERDICT)
    figures.statuses = Counter({200: 5, 409: 1})
    figures.declarations = Counter({"created": 1, "conflict": 1})
    figures.completed = figures.workflows = 1
    report = json.loads(json.dumps(figures.report()))
    assert report["statuses"] == {"200": 5, "409": 1}
    assert report["declarations"] == {"conflict": 1, "created": 1}
    assert report["verdict"]["decisions"]["applied"] == 6
    assert report["verdict"]["replay"]["replayed"] == 1
    assert report["ok"] is True


def test_a_notice_sent_but_not_stored_fails_the_run() -> None:
    lost = Verdict(
        decisions=VERDICT.decisions,
        effects=VERDICT.effects,
        messages=3,
        drift=[],
        histories=VERDICT.histories,
        replay=VERDICT.replay,
    )
    assert lost.notices_lost_or_extra == 1
    assert not lost.clean


def test_a_history_that_does_not_replay_fails_the_run() -> None:
    unreplayable = ReplayReport(
        replayed=1,
        cases=1,
        failures=[ReplayFailure("case-1", "NondeterminismError: ...", "var/x/case-1.json")],
    )
    verdict = Verdict(
        decisions=VERDICT.decisions,
        effects=VERDICT.effects,
        messages=VERDICT.messages,
        drift=[],
        histories=VERDICT.histories,
        replay=unreplayable,
    )
    assert not verdict.clean
    figures = Figures(cases=1, completed=1, verdict=verdict)
    assert not figures.ok
    report = json.loads(json.dumps(asdict(figures)))
    assert report["verdict"]["replay"]["replayed"] == 1
    assert report["verdict"]["replay"]["failures"][0]["workflow_id"] == "case-1"


def test_chaos_figures_print_as_json() -> None:
    figures = Figures(cases=1, completed=1, verdict=VERDICT, activity_retries={"a": 2})
    report = json.loads(json.dumps(asdict(figures)))
    assert report["activity_retries"] == {"a": 2}
    assert figures.ok


def test_the_tally_counts_each_case_s_current_run_once() -> None:
    """The replay gate streams a case's current run first, then the runs it continued from;
    the tally it feeds counts the first only."""
    path = Path(__file__).parents[1] / "workflows" / "histories" / "v4" / "normal.json"
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    tally = Tally()
    tally.add_current_run(history)
    tally.add_current_run(history)  # an earlier run of the same case
    assert tally.result().notices_sent == 5
    assert tally.result().completed["read_model.project"] == 25
