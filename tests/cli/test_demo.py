"""``retirement demo``: every path runs to the end on the time-skipping server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.demo_command import recordings_replay

RETIREMENT = Path(sys.executable).parent / "retirement"
WORKFLOWS = Path(__file__).parent.parent / "workflows"
PATHS = {
    "normal",
    "special-job",
    "illness",
    "flexible-early",
    "flexible-delay",
    "no-employer",
    "returned-for-correction",
    "roster-start",
}


def test_the_demo_runs_every_path_to_completion(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(RETIREMENT), "demo", "--json", "--record-histories", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    events = json.loads(result.stdout)
    assert {e["case"] for e in events} == PATHS
    for event in events:
        assert set(event) == {"case", "at", "stage", "event", "actor"}
    for case in PATHS:
        story = [e for e in events if e["case"] == case]
        assert story[-1]["stage"] == "completed", (case, story[-3:])
        assert story[0]["event"] == "case opened"
    roster = [e["event"] for e in events if e["case"] == "roster-start"]
    assert sum(e.startswith("reminder sent: declaration") for e in roster) == 3
    assert any(e.startswith("escalated to hr supervisors") for e in roster)
    assert any(e.startswith("late declaration") for e in roster)
    returned = [e["event"] for e in events if e["case"] == "returned-for-correction"]
    assert any("return: archive pages" in e for e in returned)
    # A recorded history per case, plus the dev-server case with search attributes.
    assert {p.stem for p in tmp_path.glob("*.json")} == PATHS | {"illness-search-attributes"}


def test_the_demo_prints_a_readable_story() -> None:
    result = subprocess.run(
        [str(RETIREMENT), "demo"], capture_output=True, text=True, timeout=240, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for case in PATHS:
        assert f"== {case}: completed" in result.stdout
    assert "at (China)" in result.stdout


def test_a_recording_that_does_not_replay_is_not_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every recording is replayed before it is written; one that does not replay (here a
    history of another key ring) stops the recording and is kept under var/replay-failures/."""
    monkeypatch.chdir(tmp_path)
    histories = {
        "normal": (WORKFLOWS / "histories" / "v3" / "normal.json").read_text(encoding="utf-8"),
        "foreign": (WORKFLOWS / "regressions" / "update-during-projection.json").read_text(
            encoding="utf-8"
        ),
    }
    assert not recordings_replay(histories)
    kept = list((tmp_path / "var" / "replay-failures").glob("demo-*/*.json"))
    assert [p.name for p in kept] == ["foreign.json"]
    assert recordings_replay({"normal": histories["normal"]})
