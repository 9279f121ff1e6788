"""The checks that end a chaos or load run: every side effect exactly once (every notice the
workflows sent stored once), every decision the workflows applied in the audit log exactly once,
every case's history replayable by the current workflow code (``harness.replay_gate``), and how
many retries the faults cost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.client import Client, WorkflowHistory

from contracts.platform import Effect
from contracts.workflow import CaseSnapshot
from db.models import AuditLogRow, MessageRow
from harness.replay_gate import ReplayReport, replay_gate, run_name
from service.reconcile import DepartmentLedger, SideEffects, reconcile, tally_effects


@dataclass(frozen=True)
class ListedEffects:
    """The departments' effects, listed once: the end of a run checks them twice (``reconcile``
    and :func:`side_effects`), and each listing pages through every department over HTTP."""

    listed: tuple[Effect, ...]

    @classmethod
    async def of(cls, departments: DepartmentLedger) -> ListedEffects:
        return cls(tuple(await asyncio.to_thread(lambda: list(departments.effects()))))

    def effects(self, *, case_id: str | None = None) -> Iterator[Effect]:
        return (e for e in self.listed if case_id is None or e.case_id == case_id)


def side_effects(departments: DepartmentLedger) -> SideEffects:
    """Money, messages and department records, as the departments list them (their effects),
    and how many of them are doubles. In the chaos and load runs' cases (nothing returned for
    correction, nothing refused) each kind of record exists at most once per case."""
    return tally_effects(list(departments.effects()))


@dataclass(frozen=True)
class DecisionAudit:
    applied: int  # decisions in the workflows
    doubled: int  # a task decided twice, or one decision audited twice
    unaudited: int  # applied but missing from the audit log


def messages_recorded(sessions: sessionmaker[Session], case_ids: Sequence[str]) -> int:
    """The outbox's messages of these cases."""
    with sessions() as db:
        return sum(
            db.scalar(select(func.count()).where(MessageRow.case_id.in_(chunk))) or 0
            for chunk in (case_ids[i : i + 500] for i in range(0, len(case_ids), 500))
        )


def decision_audit(
    sessions: sessionmaker[Session], snapshots: Iterable[CaseSnapshot]
) -> DecisionAudit:
    """The workflows' decisions against the audit log's accepted ``decide-*`` entries."""
    per_task: Counter[tuple[str, str]] = Counter()
    expected: set[tuple[str, str, str]] = set()
    for snap in snapshots:
        for d in snap.decisions:
            per_task[(snap.case_id, d.task_id)] += 1
            expected.add((snap.case_id, f"decide-{d.task_kind.value}", d.actor.id))
    with sessions() as db:
        audited = Counter(
            (case, action, actor)
            for case, action, actor in db.execute(
                select(AuditLogRow.case_id, AuditLogRow.action, AuditLogRow.actor_id).where(
                    AuditLogRow.action.like("decide-%"), AuditLogRow.result == "accepted"
                )
            )
        )
    doubled = sum(n - 1 for n in per_task.values() if n > 1)
    doubled += sum(n - 1 for key, n in audited.items() if key in expected and n > 1)
    return DecisionAudit(
        applied=sum(per_task.values()), doubled=doubled, unaudited=len(expected - set(audited))
    )


@dataclass(frozen=True)
class HistoryTally:
    """What the cases' histories (their current runs) say happened to their steps."""

    retries: dict[str, int]  # activity attempts beyond the first, per type: what the faults
    # cost, and proof that they hit running work
    completed: dict[str, int]  # activities completed, per type
    stranded_seconds: list[float]  # workflow tasks left on a dead worker's sticky queue: how
    # long each waited before another worker could take it

    @property
    def notices_sent(self) -> int:
        return self.completed.get(NOTIFY, 0)


NOTIFY = "notifications.send"


class Tally:
    """Adds up the cases' histories into a :class:`HistoryTally`, one history at a time (the
    replay gate streams them: they are fetched once for both)."""

    def __init__(self) -> None:
        self._retries: Counter[str] = Counter()
        self._completed: Counter[str] = Counter()
        self._stranded: list[float] = []
        self._seen: set[str] = set()

    def add_current_run(self, history: WorkflowHistory) -> None:
        """Count ``history`` if it is the first seen of its case: a case's current run comes
        before the runs it continued from (``harness.replay_gate.fetch_histories``)."""
        if history.workflow_id in self._seen:
            return
        self._seen.add(history.workflow_id)
        activity_types: dict[int, str] = {}  # by scheduled event id
        task_scheduled_at: dict[int, datetime] = {}  # workflow tasks, by scheduled event id
        for event in history.events:
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                attributes = event.activity_task_scheduled_event_attributes
                activity_types[event.event_id] = attributes.activity_type.name
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                task_scheduled_at[event.event_id] = event.event_time.ToDatetime()
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                started = event.activity_task_started_event_attributes
                if started.attempt > 1:
                    self._retries[activity_types.get(started.scheduled_event_id, "?")] += (
                        started.attempt - 1
                    )
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                done = event.activity_task_completed_event_attributes
                self._completed[activity_types.get(done.scheduled_event_id, "?")] += 1
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                timed_out = event.workflow_task_timed_out_event_attributes
                if timed_out.timeout_type == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START:
                    since = task_scheduled_at[timed_out.scheduled_event_id]
                    self._stranded.append((event.event_time.ToDatetime() - since).total_seconds())

    def result(self) -> HistoryTally:
        return HistoryTally(
            retries=dict(sorted(self._retries.items())),
            completed=dict(self._completed),
            stranded_seconds=sorted(self._stranded),
        )


async def history_tally(client: Client, case_ids: Iterable[str]) -> HistoryTally:
    """The current runs of ``case_ids``, fetched and tallied (without replaying them)."""
    tally = Tally()
    for case_id in case_ids:
        tally.add_current_run(await client.get_workflow_handle(case_id).fetch_history())
    return tally.result()


@dataclass(frozen=True)
class Verdict:
    """Everything a run's end checks, beyond its own figures."""

    decisions: DecisionAudit
    effects: SideEffects
    messages: int  # in the outbox, for these cases
    drift: list[str]
    histories: HistoryTally
    replay: ReplayReport  # every case's history replayed; failures kept under var/

    @property
    def notices_lost_or_extra(self) -> int:
        """Notices the workflows sent (their completed ``notifications.send`` steps) against the
        messages in the outbox. How many a case sends depends on the day it runs (a deadline
        already past sends an escalation), so the histories, not a fixed count, are the measure.
        (A text or push the channels sent twice is in ``effects.duplicate_notifications``.)"""
        return abs(self.messages - self.histories.notices_sent)

    @property
    def clean(self) -> bool:
        return not self.shortfalls

    @property
    def shortfalls(self) -> list[str]:
        """Each check the run's end fails, in words."""
        counts = {
            "decisions doubled": self.decisions.doubled,
            "decisions unaudited": self.decisions.unaudited,
            "side effects duplicated": self.effects.duplicates,
            "notices lost or extra": self.notices_lost_or_extra,
        }
        found = [f"{name}: {n}" for name, n in counts.items() if n]
        found += [f"drift: {line}" for line in self.drift]
        found += [f"replay {f.workflow_id}: {f.message}" for f in self.replay.failures]
        return found


async def verdict(
    client: Client,
    sessions: sessionmaker[Session],
    departments: DepartmentLedger,
    snapshots: list[CaseSnapshot],
    run: str,
    also_replay: Sequence[str] = (),
) -> Verdict:
    """The decisions against the audit log, the side effects against the histories,
    ``reconcile``'s drift, and every case's history replayed with the client's data converter
    (the worker's), with the histories of ``also_replay`` (the outbox's dispatcher); a history
    that does not replay is written to ``var/replay-failures/<run>-<time>/``. Call it once every
    case has closed."""
    listed = await ListedEffects.of(departments)
    found = await reconcile(client, sessions, listed, fetched={s.case_id: s for s in snapshots})
    tally = Tally()  # fed by the replay gate's stream: each history is fetched once
    replay = await replay_gate(
        client,
        [*(s.case_id for s in snapshots), *also_replay],
        run=run_name(run),
        observe=tally.add_current_run,
    )
    return Verdict(
        decisions=decision_audit(sessions, snapshots),
        effects=side_effects(listed),
        messages=messages_recorded(sessions, [s.case_id for s in snapshots]),
        drift=[f"{d.case_id}: {d.problem}" for d in found],
        histories=tally.result(),
        replay=replay,
    )
