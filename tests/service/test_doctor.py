"""``retirement doctor`` without a server: where it finds the bad workflow task of the kept
unreplayable history, what a reset run still owes (an unfinished heal) on recorded event lists,
and its usage errors (exit status 2, before connecting to anything). The live finding and
healing are in ``tests/integration/test_split_task.py``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType, UpdateAdmittedEventOrigin, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
    HistoryEvent,
    WorkflowExecutionSignaledEventAttributes,
    WorkflowExecutionUpdateAcceptedEventAttributes,
    WorkflowExecutionUpdateAdmittedEventAttributes,
    WorkflowTaskFailedEventAttributes,
)
from temporalio.api.update.v1 import Input, Meta, Request
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from cli.main import run
from harness.cluster import KEYS
from service.doctor import (
    Owed,
    ResetLink,
    _accepted_updates,
    first_bad_task,
    owed_updates,
    reset_link,
)
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


# ---------------------------------------------------------------------------------------------
# Unfinished heals, on event lists shaped as the dev server (CLI 1.9.1, server 1.32) records
# them: a reset run starts with the base run's events up to the reset task's
# WorkflowTaskStarted, then WorkflowTaskFailed (cause RESET_WORKFLOW, base_run_id, new_run_id)
# with the reset point's event id; an update the reset re-applies is re-admitted
# (WorkflowExecutionUpdateAdmitted, origin REAPPLY) and its accepted event carries no request.

CONVERTER = DataConverter.default
E = EventType


def _args(request_id: str) -> list[Payload]:
    return list(CONVERTER.payload_converter.to_payloads([{"request_id": request_id}]))


def _request(update_id: str, request_id: str) -> Request:
    return Request(
        meta=Meta(update_id=update_id),
        input=Input(name="decide", args=Payloads(payloads=_args(request_id))),
    )


def _event(event_id: int, kind: EventType.ValueType, **attributes: Any) -> HistoryEvent:
    return HistoryEvent(event_id=event_id, event_type=kind, **attributes)


def _task(first: int) -> list[HistoryEvent]:
    """A workflow task scheduled, started and completed at ``first``, ``first+1``, ``first+2``."""
    return [
        _event(first, E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
        _event(first + 1, E.EVENT_TYPE_WORKFLOW_TASK_STARTED),
        _event(first + 2, E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    ]


def _accepted(event_id: int, update_id: str, request_id: str | None) -> HistoryEvent:
    """An update accepted; without ``request_id`` as a re-admitted one is (no request)."""
    attributes = WorkflowExecutionUpdateAcceptedEventAttributes(protocol_instance_id=update_id)
    if request_id is not None:
        attributes.accepted_request.CopyFrom(_request(update_id, request_id))
    return _event(
        event_id,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        workflow_execution_update_accepted_event_attributes=attributes,
    )


def _admitted(event_id: int, update_id: str, request_id: str) -> HistoryEvent:
    return _event(
        event_id,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
        workflow_execution_update_admitted_event_attributes=(
            WorkflowExecutionUpdateAdmittedEventAttributes(
                request=_request(update_id, request_id),
                origin=UpdateAdmittedEventOrigin.UPDATE_ADMITTED_EVENT_ORIGIN_REAPPLY,
            )
        ),
    )


def _reset(event_id: int, base: str, new: str, reason: str) -> HistoryEvent:
    return _event(
        event_id,
        E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        workflow_task_failed_event_attributes=WorkflowTaskFailedEventAttributes(
            scheduled_event_id=event_id - 2,
            started_event_id=event_id - 1,
            cause=WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
            failure=Failure(message=reason),
            base_run_id=base,
            new_run_id=new,
        ),
    )


def _signal(event_id: int, request_id: str) -> HistoryEvent:
    return _event(
        event_id,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        workflow_execution_signaled_event_attributes=WorkflowExecutionSignaledEventAttributes(
            signal_name="decide_signal", input=Payloads(payloads=_args(request_id))
        ),
    )


STARTED = _event(1, E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
# run-1: u1 accepted in the task completed at 4; the task completed at 10 (the bad one, the
# reset point) accepted u2 and u3; u4 later.
RUN_1 = [
    STARTED,
    *_task(2),
    _accepted(5, "u1", "r1"),
    *_task(8),
    _accepted(11, "u2", "r2"),
    _accepted(12, "u3", "r3"),
    *_task(13),
    _accepted(16, "u4", "r4"),
]
DOCTOR = "retirement doctor: workflow task 10 cannot be replayed"
# run-2: doctor's reset of run-1 to 10, updates excluded; doctor died before re-sending.
RUN_2 = [
    STARTED,
    *_task(2),
    _accepted(5, "u1", "r1"),
    *_task(8)[:2],
    _reset(10, "run-1", "run-2", DOCTOR),
]


async def _owed(
    events: list[HistoryEvent], run_id: str, bases: dict[str, list[HistoryEvent]]
) -> Owed | None:
    """:func:`owed_updates` with the chain of base runs taken from ``bases``, as
    :func:`service.doctor.lineage` fetches it."""
    chain = []
    link = reset_link(events, run_id)
    while link is not None:
        chain.append((link, bases[link.base_run]))
        link = reset_link(bases[link.base_run], link.base_run)
    return await owed_updates(CONVERTER, events, chain)


def test_a_reset_run_names_its_base_run_and_the_reset_point() -> None:
    assert reset_link(RUN_1, "run-1") is None
    link = reset_link(RUN_2, "run-2")
    assert link == ResetLink(base_run="run-1", after=9, reset_event=10, reason=DOCTOR)
    # Reset again, by hand: the new run holds run-2's reset event too; its own is the one.
    run_3 = [*RUN_2, *_task(11)[:2], _reset(13, "run-2", "run-3", "oops")]
    assert reset_link(run_3, "run-3") == ResetLink("run-2", 12, 13, "oops")


async def test_doctor_died_after_the_reset_the_dropped_updates_are_owed_until_accepted() -> None:
    owed = await _owed(RUN_2, "run-2", {"run-1": RUN_1})
    assert owed is not None
    assert list(owed.dropped) == ["u2", "u3", "u4"]  # u1 was before the reset point
    assert owed.owed == ["u2", "u3", "u4"] and owed.present == owed.duplicates == []
    # The next doctor --heal re-sends them, in order; half-way it dies again.
    resumed = [*RUN_2, *_task(11), _accepted(14, "u2", "r2")]
    owed = await _owed(resumed, "run-2", {"run-1": RUN_1})
    assert owed is not None and owed.present == ["u2"] and owed.owed == ["u3", "u4"]
    # All re-sent: nothing owed, so a further doctor run finds nothing.
    done = [*resumed, _accepted(15, "u3", "r3"), *_task(16), _accepted(19, "u4", "r4")]
    owed = await _owed(done, "run-2", {"run-1": RUN_1})
    assert owed is not None and owed.owed == [] and owed.present == ["u2", "u3", "u4"]


async def test_a_request_the_new_run_applied_already_is_a_duplicate_not_owed() -> None:
    # r3 came again as a signal (re-applied by the reset), r4 as another update id.
    events = [*RUN_2, _signal(11, "r3"), *_task(12), _accepted(15, "u4-again", "r4")]
    owed = await _owed(events, "run-2", {"run-1": RUN_1})
    assert owed is not None
    assert owed.duplicates == ["u3", "u4"] and owed.owed == ["u2"]


async def test_a_reset_by_hand_that_reapplied_updates_owes_those_the_new_run_refused() -> None:
    # Default reapply: u2..u4 re-admitted; the new run accepted u2 and u4, refused u3 (a refused
    # update leaves only its admitted event).
    events = [
        *RUN_2[:-1],
        _reset(10, "run-1", "run-2", "undo a wrong step"),
        _admitted(11, "u2", "r2"),
        _admitted(12, "u3", "r3"),
        _admitted(13, "u4", "r4"),
        *_task(14),
        _accepted(17, "u2", None),
        _accepted(18, "u4", None),
    ]
    owed = await _owed(events, "run-2", {"run-1": RUN_1})
    assert owed is not None and owed.owed == ["u3"] and owed.present == ["u2", "u4"]
    # The request of a re-admitted update is found in its admitted event.
    assert _accepted_updates(events, after=0)["u4"] == _accepted_updates(RUN_1, after=0)["u4"]


async def test_updates_dropped_further_back_in_a_chain_of_resets_are_owed_too() -> None:
    # run-2 (doctor's reset, u2..u4 never re-sent) reset by hand to its task at 13: run-3 has
    # what run-2 had, and owes run-1's updates still.
    run_2 = [*RUN_2, *_task(11)]
    run_3 = [*run_2[:-1], _reset(13, "run-2", "run-3", "by hand")]
    owed = await _owed(run_3, "run-3", {"run-2": run_2, "run-1": RUN_1})
    assert owed is not None and owed.owed == ["u2", "u3", "u4"]
    assert owed.link.base_run == "run-2"


async def test_a_run_that_was_never_reset_owes_nothing() -> None:
    assert await _owed(RUN_1, "run-1", {}) is None
