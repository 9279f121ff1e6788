"""``retirement doctor``: find the cases that cannot be replayed, and heal them.

A case can be stuck for good (docs/reliability.md): when a workflow task was *split* — a query
answered by a worker that applied a department step's result outside any workflow task, and an
update then recorded in the same task as the step's follow-up — the history cannot be replayed.
While a worker holds the case in its cache nothing shows; the day a worker must rebuild it from
its history (a restart, a cache eviction) every workflow task fails.

Finding (never by a query: a query to a running case is what splits a task):

- *failing*: a running case whose pending workflow task is on its second attempt or later; the
  last ``WorkflowTaskFailed`` event says why (its failure decoded with the project's converter:
  failures are encrypted);
- *unreplayable* (``replay=True``): a running case whose whole history does not replay against
  this code, although its tasks do not fail yet (a latent split).

For either, the *first bad workflow task* is found by replaying prefixes of the history: the
prefix that ends with the ``WorkflowTaskStarted`` event of task *k* holds everything tasks before
*k* decided, and task *k* itself is run as live work, which is exactly what a reset to *k*'s
``WorkflowTaskCompleted`` event keeps and redoes. The last *k* whose prefix replays is the first
bad task, and the reset point.

Healing (``heal``): reset the run to that point, without re-applying the updates recorded after
it (the server would hand them to the new run at once, before the steps that make them valid,
and they would be refused, so they are re-sent instead; signals are re-applied, as by default);
let the read model take the new run's projections (its version counter restarts from the reset
point); re-send every update accepted in the old run after the reset point with the same update
id and the same input (the accepted request, as recorded), in the order they were accepted, each
once the new run accepts it; then prove nothing was lost: every update accepted in the old run
is accepted in the new run (or refused there as a duplicate of a request it already applied),
every accepted decision in the audit log is a decision in the new run's history, and no
department record or notification of the case is doubled.

Healing is resumable (*unfinished-heal*). A heal is two steps, :func:`reset` and
:func:`resend_dropped`; if doctor dies between them (a crash, Ctrl-C, the machine lost), the new
run replays fine and the updates accepted by the old run are gone from it, although the clerk was
told "accepted". So every doctor run also looks at the running cases that were reset
(``workflow_extended_info.last_reset_time`` in describe, so the check costs nothing for the
others): the reset run's history holds a ``WorkflowTaskFailed`` event with cause
``RESET_WORKFLOW`` whose ``base_run_id`` is the run it was reset from (and whose own base may have
been reset too: the chain is followed, up to :data:`MAX_RESETS` runs back). Every update accepted
in a base run after its reset point must be accepted by the current run, or be a request the
current run has applied already (its request id seen: an update accepted, the declaration at
start, a ``decide_signal``, or carried over by continue-as-new; the workflow refuses those as
duplicates). The ones that are neither are *owed*: reported, and with ``heal`` re-sent (same id,
same recorded input, same order, same retries) and checked as above. After a complete heal
nothing is owed, so running doctor again finds nothing and changes nothing.

The same check covers a reset made by hand (``temporal workflow reset``, the UI): with the
default reapply the server re-admits the updates (``WorkflowExecutionUpdateAdmitted``, origin
REAPPLY) but the new run may refuse them (the state that made them valid is not there yet), and a
refused update leaves no trace; their loss is reported the same way. Such a reset may also have
dropped them on purpose (an undo), so ``heal`` re-sends them only when the operator names the case
(``--case``); doctor's own resets (reason ``retirement doctor: ...``) are always resumed.
A base run deleted by the namespace's retention cannot be checked any more, and is skipped.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.enums.v1 import (
    EventType,
    ResetReapplyExcludeType,
    ResetReapplyType,
    WorkflowTaskFailedCause,
)
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowHistory,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.common import RawValue
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from contracts.workflow import Decision, RefusalType
from db.models import AuditLogRow
from db.read_model import accept_next_projection
from service.reconcile import DepartmentLedger, tally_effects
from workflows.case import RetirementCase

WORKFLOW_TYPE = "RetirementCase"
FAILING = "failing"
UNREPLAYABLE = "unreplayable"
UNFINISHED_HEAL = "unfinished-heal"
# The reason doctor gives its resets; a reset with any other reason was made by someone else.
REASON_PREFIX = "retirement doctor:"
# How many resets back the chain of base runs is followed.
MAX_RESETS = 8
# Refusals that mean "not yet" for a re-sent update: the new run has not reached the state the
# old run was in when it accepted the update (a step is still running again).
_NOT_YET = {RefusalType.STALE.value, RefusalType.NOT_YET.value, RefusalType.WRONG_STAGE.value}


@dataclass(frozen=True)
class Finding:
    case_id: str
    run_id: str
    kind: str  # FAILING, UNREPLAYABLE or UNFINISHED_HEAL
    first_bad_event: int | None  # WorkflowTaskCompleted event id of the first bad task
    message: str
    attempts: int = 0  # of the pending workflow task (failing cases)
    # UNFINISHED_HEAL: the run this one was reset from, the reset point in it (event id), the
    # reset's reason, and the update ids accepted there that this run lacks
    base_run: str | None = None
    reset_event: int | None = None
    reset_reason: str | None = None
    owed: tuple[str, ...] = ()

    @property
    def reset_by_doctor(self) -> bool:
        return (self.reset_reason or "").startswith(REASON_PREFIX)


@dataclass
class Heal:
    case_id: str
    old_run: str
    reset_to_event: int | None = None
    new_run: str | None = None
    resent: list[str] = field(default_factory=list)  # update ids accepted again by the new run
    duplicates: list[str] = field(default_factory=list)  # refused as already applied: not lost
    lost: list[str] = field(default_factory=list)  # "update id: why"
    unmatched_audit: list[str] = field(default_factory=list)  # audited decisions not in history
    doubled: dict[str, int] = field(default_factory=dict)  # department records per table
    problem: str | None = None  # why it could not be healed

    @property
    def ok(self) -> bool:
        return (
            self.problem is None
            and self.new_run is not None
            and not self.lost
            and not self.unmatched_audit
            and not self.doubled
        )


# ---------------------------------------------------------------------------------------------
# Finding


async def examine(
    client: Client, *, replay: bool, case_ids: Sequence[str] | None = None
) -> list[Finding]:
    """The running cases (or ``case_ids``) whose workflow tasks fail, and with ``replay`` those
    whose history does not replay. Never queries a case."""
    if case_ids:
        ids = list(case_ids)
    else:
        query = f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'"
        ids = [w.id async for w in client.list_workflows(query)]
    replayer = Replayer(workflows=[RetirementCase], data_converter=client.data_converter)
    findings: list[Finding] = []
    for case_id in ids:
        found = await _examine_one(client, replayer, case_id, replay=replay)
        if found is not None:
            findings.append(found)
    return findings


async def _examine_one(
    client: Client, replayer: Replayer, case_id: str, *, replay: bool
) -> Finding | None:
    handle = client.get_workflow_handle(case_id)
    described = await handle.describe()
    raw = described.raw_description
    attempts = raw.pending_workflow_task.attempt if raw.HasField("pending_workflow_task") else 0
    was_reset = raw.workflow_extended_info.HasField("last_reset_time")
    if attempts <= 1 and not replay and not was_reset:
        return None
    run = client.get_workflow_handle(case_id, run_id=described.run_id)
    history = await run.fetch_history()
    if attempts > 1:
        message = await _last_task_failure(client, history.events)
        first_bad = await first_bad_task(replayer, history)
        return Finding(case_id, described.run_id, FAILING, first_bad, message, attempts)
    if replay:
        failure = await replay_failure(replayer, history)
        if failure is not None:
            first_bad = await first_bad_task(replayer, history)
            return Finding(case_id, described.run_id, UNREPLAYABLE, first_bad, failure)
    if was_reset:
        return await unfinished_heal(client, case_id, described.run_id, history.events)
    return None


async def _last_task_failure(client: Client, events: Sequence[HistoryEvent]) -> str:
    for event in reversed(events):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            attributes = event.workflow_task_failed_event_attributes
            cause = attributes.cause
            name = WorkflowTaskFailedCause.Name(cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_")
            if attributes.HasField("failure"):
                error = await client.data_converter.decode_failure(attributes.failure)
                return f"{name}: {error}"
            return name
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            return "workflow task timed out"
    return "workflow task retried (no failure recorded)"


async def replay_failure(replayer: Replayer, history: WorkflowHistory) -> str | None:
    """Why ``history`` does not replay against this code, or ``None``."""
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    failure = result.replay_failure
    return None if failure is None else f"{type(failure).__name__}: {failure}"


def _task_ends(events: Sequence[HistoryEvent]) -> list[int]:
    """Indexes of the WorkflowTaskCompleted events (each preceded by its WorkflowTaskStarted)."""
    return [
        i
        for i, e in enumerate(events)
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]


async def first_bad_task(replayer: Replayer, history: WorkflowHistory) -> int | None:
    """The ``WorkflowTaskCompleted`` event id of the first workflow task whose recorded outcome
    this code cannot reproduce (the reset point), or ``None`` when the whole history replays.

    Prefix *k* = the events up to the ``WorkflowTaskStarted`` of task *k*: the tasks before it as
    recorded, task *k* as live work. Prefixes only fail once a bad task is in them, so the last
    good one is found by bisection."""
    events = history.events
    ends = _task_ends(events)
    if not ends or await replay_failure(replayer, history) is None:
        return None

    async def good(k: int) -> bool:
        prefix = WorkflowHistory(history.workflow_id, list(events[: ends[k]]))
        return await replay_failure(replayer, prefix) is None

    # The first task's prefix is the start alone: it always replays.
    low, high = 0, len(ends)  # good(low); high is "past the end" (the whole history, bad)
    while high - low > 1:
        middle = (low + high) // 2
        if await good(middle):
            low = middle
        else:
            high = middle
    return events[ends[low]].event_id


# ---------------------------------------------------------------------------------------------
# Unfinished heals: what a reset run still owes


@dataclass(frozen=True)
class _Accepted:
    name: str
    args: Sequence[Payload]  # as recorded (encrypted)


@dataclass(frozen=True)
class ResetLink:
    """How a run came about by a reset, from its ``WorkflowTaskFailed`` (RESET_WORKFLOW) event."""

    base_run: str
    after: int  # the base run's events after this one were dropped (the reset task's started)
    reset_event: int  # the reset point in the base run (its WorkflowTaskCompleted event id)
    reason: str


def reset_link(events: Sequence[HistoryEvent], run_id: str) -> ResetLink | None:
    """The reset that made run ``run_id`` (whose history is ``events``), or ``None``.

    A reset copies the base run's events up to the reset point, so a run reset twice holds the
    earlier reset's event too: the one whose ``new_run_id`` is this run is the one."""
    found: ResetLink | None = None
    for event in events:
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            continue
        attributes = event.workflow_task_failed_event_attributes
        if attributes.cause != WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW:
            continue
        if attributes.new_run_id not in (run_id, ""):
            continue
        found = ResetLink(
            base_run=attributes.base_run_id,
            after=attributes.started_event_id,
            reset_event=event.event_id,
            reason=attributes.failure.message,
        )
    return found


def _accepted_updates(events: Sequence[HistoryEvent], *, after: int) -> dict[str, _Accepted]:
    """Updates accepted in events after ``after``, by update id, in the order accepted.

    An update the server re-admitted (a reset's reapply) is recorded in its
    ``WorkflowExecutionUpdateAdmitted`` event; its accepted event then carries no request."""
    admitted: dict[str, _Accepted] = {}
    found: dict[str, _Accepted] = {}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED:
            request = event.workflow_execution_update_admitted_event_attributes.request
            admitted[request.meta.update_id] = _Accepted(
                name=request.input.name, args=list(request.input.args.payloads)
            )
        elif (
            event.event_id > after
            and event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        ):
            attributes = event.workflow_execution_update_accepted_event_attributes
            request = attributes.accepted_request
            update_id = request.meta.update_id or attributes.protocol_instance_id
            if request.input.name:
                found[update_id] = _Accepted(
                    name=request.input.name, args=list(request.input.args.payloads)
                )
            else:
                found[update_id] = admitted.get(update_id, _Accepted(name="", args=[]))
    return found


@dataclass
class Owed:
    """What a reset run owes: the updates dropped from its base runs, and how each stands."""

    link: ResetLink  # the reset that made the current run
    dropped: dict[str, _Accepted]  # accepted in a base run after its reset point, in order
    base_events: list[HistoryEvent]  # every base run's events, oldest run first
    present: list[str] = field(default_factory=list)  # accepted by the current run
    duplicates: list[str] = field(default_factory=list)  # their request applied already
    owed: list[str] = field(default_factory=list)  # neither: lost unless re-sent


async def lineage(
    client: Client, case_id: str, run_id: str, events: Sequence[HistoryEvent]
) -> list[tuple[ResetLink, list[HistoryEvent]]]:
    """The resets behind run ``run_id``, newest first, each with its base run's events; up to
    :data:`MAX_RESETS`, and up to a base run deleted by retention."""
    chain: list[tuple[ResetLink, list[HistoryEvent]]] = []
    link = reset_link(events, run_id)
    while link is not None and len(chain) < MAX_RESETS:
        base = client.get_workflow_handle(case_id, run_id=link.base_run)
        try:
            base_events = list((await base.fetch_history()).events)
        except RPCError as gone:
            if gone.status is RPCStatusCode.NOT_FOUND:
                break
            raise
        chain.append((link, base_events))
        link = reset_link(base_events, link.base_run)
    return chain


async def owed_updates(
    converter: DataConverter,
    events: Sequence[HistoryEvent],
    chain: Sequence[tuple[ResetLink, Sequence[HistoryEvent]]],
) -> Owed | None:
    """What the run whose history is ``events`` owes to the runs it was reset from (``chain``,
    newest first, as :func:`lineage` gives it); ``None`` when it was not reset."""
    if not chain:
        return None
    dropped: dict[str, _Accepted] = {}
    for link, base_events in reversed(chain):  # oldest first: the order the clerks were answered
        for update_id, update in _accepted_updates(base_events, after=link.after).items():
            dropped.setdefault(update_id, update)
    result = Owed(
        link=chain[0][0],
        dropped=dropped,
        base_events=[e for _, base_events in reversed(chain) for e in base_events],
    )
    accepted = _accepted_updates(events, after=0)
    candidates = [u for u in dropped if u not in accepted]
    result.present = [u for u in dropped if u in accepted]
    if candidates:
        seen = await _request_ids(converter, events)
        for update_id in candidates:
            request_id = await _request_id(converter, dropped[update_id].args)
            if request_id is not None and request_id in seen:
                result.duplicates.append(update_id)
            else:
                result.owed.append(update_id)
    return result


async def unfinished_heal(
    client: Client, case_id: str, run_id: str, events: Sequence[HistoryEvent]
) -> Finding | None:
    """An UNFINISHED_HEAL finding when run ``run_id`` of the case was reset and lacks an update
    accepted by a run it was reset from; ``None`` otherwise."""
    chain = await lineage(client, case_id, run_id, events)
    owed = await owed_updates(client.data_converter, events, chain)
    if owed is None or not owed.owed:
        return None
    link = owed.link
    by = "doctor" if link.reason.startswith(REASON_PREFIX) else "hand"
    return Finding(
        case_id,
        run_id,
        UNFINISHED_HEAL,
        None,
        f"{len(owed.owed)} update(s) accepted by run {link.base_run} after event "
        f"{link.reset_event} missing: {', '.join(owed.owed)}; reset by {by} ({link.reason})",
        base_run=link.base_run,
        reset_event=link.reset_event,
        reset_reason=link.reason,
        owed=tuple(owed.owed),
    )


async def _request_id(converter: DataConverter, args: Sequence[Payload]) -> str | None:
    """The ``request_id`` of an update's (or signal's) first argument, if it has one."""
    value = await _decoded(converter, args)
    request_id = value.get("request_id") if isinstance(value, dict) else None
    return request_id if isinstance(request_id, str) else None


async def _request_ids(converter: DataConverter, events: Sequence[HistoryEvent]) -> set[str]:
    """The request ids a run has applied, as far as its history tells (what the workflow's
    duplicate check knows): its accepted updates', its ``decide_signal`` signals', the
    declaration's at start and those carried over by continue-as-new."""
    seen: set[str] = set()
    for update in _accepted_updates(events, after=0).values():
        request_id = await _request_id(converter, update.args)
        if request_id is not None:
            seen.add(request_id)
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signal = event.workflow_execution_signaled_event_attributes
            if signal.signal_name == "decide_signal":
                request_id = await _request_id(converter, signal.input.payloads)
                if request_id is not None:
                    seen.add(request_id)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            start = await _decoded(converter, payloads)
            if isinstance(start, dict):
                if isinstance(start.get("request_id"), str):
                    seen.add(start["request_id"])
                state = start.get("state")
                if isinstance(state, dict):
                    seen.update(
                        r for r in state.get("processed_requests", []) if isinstance(r, str)
                    )
    return seen


async def _decoded(converter: DataConverter, payloads: Sequence[Payload]) -> object:
    """The first payload as plain JSON values, or ``None`` when there is none or it cannot be
    decoded (then it has no request id, and is simply not taken for a duplicate)."""
    if not payloads:
        return None
    try:
        (value,) = await converter.decode([payloads[0]])
    except Exception:
        return None
    return value


# ---------------------------------------------------------------------------------------------
# Healing


async def heal(
    client: Client,
    sessions: sessionmaker[Session],
    departments: DepartmentLedger,
    finding: Finding,
    *,
    timeout: float = 120.0,
    resend_by_hand: bool = False,
) -> Heal:
    """Heal a finding: for a failing or unreplayable case, :func:`reset` it to just before its
    first bad workflow task, then :func:`resend_dropped`; for an unfinished heal, only the
    latter (a reset by hand only with ``resend_by_hand``). Then check that nothing was lost or
    doubled (see the module docstring)."""
    if finding.kind == UNFINISHED_HEAL:
        report = Heal(
            case_id=finding.case_id,
            old_run=finding.base_run or finding.run_id,
            reset_to_event=finding.reset_event,
            new_run=finding.run_id,
        )
        if not finding.reset_by_doctor and not resend_by_hand:
            report.problem = (
                f"reset by hand ({finding.reset_reason}), perhaps to drop these updates on "
                f"purpose: to re-send them, run doctor --heal --case {finding.case_id}"
            )
            return report
        # Doctor may have died before it let the new run's projections in: do it (again).
        await asyncio.to_thread(accept_next_projection, sessions, finding.case_id)
        return await resend_dropped(client, sessions, departments, report, timeout=timeout)
    report = await reset(client, sessions, finding)
    if report.new_run is None:
        return report
    return await resend_dropped(client, sessions, departments, report, timeout=timeout)


async def reset(client: Client, sessions: sessionmaker[Session], finding: Finding) -> Heal:
    """The first half of a heal: reset the case to just before its first bad workflow task,
    updates excluded from the reapply, and let the read model take the new run's projections.
    The report's ``new_run`` is the new run (``None`` with a ``problem`` when not reset)."""
    report = Heal(case_id=finding.case_id, old_run=finding.run_id)
    old = client.get_workflow_handle(finding.case_id, run_id=finding.run_id)
    history = await old.fetch_history()
    replayer = Replayer(workflows=[RetirementCase], data_converter=client.data_converter)
    reset_to = await first_bad_task(replayer, history)
    if reset_to is None:
        report.problem = (
            "the history replays: the failing task is not a replay problem (a bug in the code "
            "deployed?), so a reset would not help"
        )
        return report
    report.reset_to_event = reset_to
    response = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(
                workflow_id=finding.case_id, run_id=finding.run_id
            ),
            reason=f"{REASON_PREFIX} workflow task {reset_to} cannot be replayed",
            workflow_task_finish_event_id=reset_to,
            # The same reset of the same run is one reset, however often doctor is run.
            request_id=str(
                uuid.uuid5(
                    uuid.NAMESPACE_URL, f"doctor:{finding.case_id}:{finding.run_id}:{reset_to}"
                )
            ),
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
            reset_reapply_exclude_types=[ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE],
        )
    )
    report.new_run = response.run_id
    # The new run counts versions again from the reset point: let its projections in.
    await asyncio.to_thread(accept_next_projection, sessions, finding.case_id)
    return report


async def resend_dropped(
    client: Client,
    sessions: sessionmaker[Session],
    departments: DepartmentLedger,
    report: Heal,
    *,
    timeout: float = 120.0,
) -> Heal:
    """The second half of a heal, and all of a resumed one: re-send to ``report.new_run`` every
    update accepted by a run it was reset from (following the chain of resets) that it has
    neither accepted nor applied as a duplicate, in the order accepted, each once the run
    accepts it; then check nothing was lost or doubled. Idempotent: what the run has is not sent
    again."""
    if report.new_run is None:
        report.problem = report.problem or "no new run to re-send the updates to"
        return report
    new = client.get_workflow_handle(report.case_id, run_id=report.new_run)
    events = (await new.fetch_history()).events
    chain = await lineage(client, report.case_id, report.new_run, events)
    owed = await owed_updates(client.data_converter, events, chain)
    if owed is None:
        report.problem = f"run {report.new_run} was not made by a reset"
        return report
    report.resent.extend(owed.present)  # re-applied by the reset or an earlier doctor run
    report.duplicates.extend(owed.duplicates)
    deadline = time.monotonic() + timeout
    for update_id in owed.owed:
        outcome = await _resend(
            client, report.case_id, report.new_run, update_id, owed.dropped[update_id], deadline
        )
        if outcome == "accepted":
            report.resent.append(update_id)
        elif outcome == "duplicate":
            report.duplicates.append(update_id)
        else:
            report.lost.append(f"{update_id}: {outcome}")
    await _check(client, sessions, departments, report, owed.base_events)
    return report


async def _resend(
    client: Client, case_id: str, run_id: str, update_id: str, update: _Accepted, deadline: float
) -> str:
    """``accepted``, ``duplicate``, or why the new run would not take it before ``deadline``.

    The input is sent as recorded: decrypted with the codec, then passed through unconverted
    (and encrypted again on the way out)."""
    codec = client.data_converter.payload_codec
    plain = await codec.decode(update.args) if codec else list(update.args)
    handle = client.get_workflow_handle(case_id, run_id=run_id)
    while True:
        try:
            accepted = await handle.start_update(
                update.name,
                args=[RawValue(p) for p in plain],
                id=update_id,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                result_type=RawValue,
            )
            remaining = max(1.0, deadline - time.monotonic())
            await asyncio.wait_for(accepted.result(), remaining)
            return "accepted"
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            kind = cause.type if isinstance(cause, ApplicationError) else None
            if kind == RefusalType.DUPLICATE.value:
                return "duplicate"
            if kind not in _NOT_YET or time.monotonic() > deadline:
                return f"refused ({kind}): {cause}"
        except TimeoutError:
            return "accepted, but not completed in time"
        await asyncio.sleep(0.5)


async def _check(
    client: Client,
    sessions: sessionmaker[Session],
    departments: DepartmentLedger,
    report: Heal,
    old_events: Sequence[HistoryEvent],
) -> None:
    """Every update accepted in the old run is accepted in the new one (or refused there as a
    duplicate); every accepted decision in the audit log is in the new run's history; no
    department record or notification of the case twice."""
    new = client.get_workflow_handle(report.case_id, run_id=report.new_run)
    events = (await new.fetch_history()).events
    accepted_now = _accepted_updates(events, after=0)
    for update_id in _accepted_updates(old_events, after=0):
        known = any(lost.startswith(f"{update_id}:") for lost in report.lost)
        if update_id not in accepted_now and update_id not in report.duplicates and not known:
            report.lost.append(f"{update_id}: not accepted by the new run")
    decided = await _decisions(client, events)
    audited = await asyncio.to_thread(_audited_decisions, sessions, report.case_id)
    report.unmatched_audit = sorted(
        f"{actor} on {task}" for actor, task in audited if (actor, task) not in decided
    )
    report.doubled = await asyncio.to_thread(_doubled, departments, report.case_id)


async def _decisions(client: Client, events: Sequence[HistoryEvent]) -> set[tuple[str, str]]:
    """(actor id, task id) of every decision in a history: ``decide`` updates accepted and
    ``decide_signal`` signals."""
    found: set[tuple[str, str]] = set()
    converter = client.data_converter
    inputs = [u.args for u in _accepted_updates(events, after=0).values() if u.name == "decide"]
    inputs += [
        e.workflow_execution_signaled_event_attributes.input.payloads
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and e.workflow_execution_signaled_event_attributes.signal_name == "decide_signal"
    ]
    for payloads in inputs:
        if payloads:
            (decision,) = await converter.decode(payloads, [Decision])
            if isinstance(decision, Decision):
                found.add((decision.actor.id, decision.task_id))
    return found


def _audited_decisions(sessions: sessionmaker[Session], case_id: str) -> set[tuple[str, str]]:
    """(actor id, task id) of the case's accepted ``decide-*`` audit entries (whose detail
    starts with the task id)."""
    with sessions() as db:
        rows = db.execute(
            select(AuditLogRow.actor_id, AuditLogRow.detail).where(
                AuditLogRow.case_id == case_id,
                AuditLogRow.action.like("decide-%"),
                AuditLogRow.result == "accepted",
            )
        )
        return {(actor, detail.split(" ", 1)[0]) for actor, detail in rows}


def _doubled(departments: DepartmentLedger, case_id: str) -> dict[str, int]:
    """The case's department records and notifications beyond one each, per kind, as the
    departments list them."""
    effects = tally_effects(departments.effects(case_id=case_id))
    doubled = dict(effects.duplicate_records)
    if effects.duplicate_notifications:
        doubled["message"] = effects.duplicate_notifications
    return doubled
