"""``retirement doctor`` without a server: where it finds the bad workflow task of the kept
unreplayable history, and its usage errors (exit status 2, before connecting to anything). The
live finding and healing are in ``tests/integration/test_split_task.py``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from cli.main import run
from service.cluster import KEYS
from service.doctor import first_bad_task
from service.settings import Settings
from service.temporal import data_converter
from workflows.case import RetirementCase

KEPT = Path(__file__).parents[1] / "workflows" / "regressions" / "update-during-projection.json"


async def test_the_first_bad_task_of_the_kept_history_is_the_split_one() -> None:
    # docs/reliability.md: the task scheduled at 184 carried the clerk's decision (accepted at
    # 189) after a query had applied the fund step (180-181) outside any task; it completed at
    # 186. Everything before it replays, so a reset to 186 runs that task again without the
    # decision, which doctor then sends again.
    history = WorkflowHistory.from_json(KEPT.stem, KEPT.read_text(encoding="utf-8"))
    converter = data_converter(Settings(payload_keys=KEYS, payload_key_id="run-1"))
    replayer = Replayer(workflows=[RetirementCase], data_converter=converter)
    assert await first_bad_task(replayer, history) == 186


@pytest.mark.parametrize(
    "argv",
    [["doctor", "--timeout", "0"], ["doctor", "--timeout", "-5"], ["doctor", "--case", " "]],
)
def test_bad_values_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv, io.StringIO()) == 2
    assert capsys.readouterr().err.startswith("retirement: ")


@pytest.mark.parametrize("argv", [["doctor", "--heal", "--bogus"], ["doctor", "--timeout", "x"]])
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(argv, io.StringIO())
    assert exited.value.code == 2
