"""Reconciliation: do the workflows, the read model and the department records agree?

For every case in the read model: the workflow (while Temporal keeps it) says the same stage and
is not behind; every decision the workflow applied is in the audit log; every pension award and
fund payout the case shows exists exactly once in the department's records, and no department
holds a second one. Every running case workflow has a read-model row. Anything else is drift.

A running case is never queried (a query to a running case can make a worker apply events
outside a workflow task, docs/reliability.md): its stage is read from its search attributes,
which the workflow upserts in the same workflow task as the change. A closed case's run is
queried for its whole state (version and decisions included).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from contracts import search
from contracts.platform import Effect
from contracts.workflow import CaseSnapshot
from db.models import AuditLogRow, CaseRow
from workflows.case import RetirementCase

SETTLE = timedelta(seconds=60)  # a projection this recent may still be on its way


@dataclass(frozen=True)
class Drift:
    case_id: str
    problem: str


class DepartmentLedger(Protocol):
    """What the departments recorded (``adapters.departments.Platform`` over HTTP)."""

    def effects(self, *, case_id: str | None = None) -> Iterator[Effect]: ...


AWARD = "pension-award"
PAYOUT = "payout"
SMS, PUSH = "sms", "push"  # what the SMS platform and the app's push recorded
MESSAGES = (SMS, PUSH)


@dataclass(frozen=True)
class SideEffects:
    pension_awards: int
    duplicate_awards: int
    fund_payouts: int
    duplicate_payouts: int
    notifications: int  # texts and pushes the channels sent
    duplicate_notifications: int  # the same text to the same number (or app user) twice
    duplicate_records: dict[str, int]  # per table, rows beyond one per case (awards, payouts too)

    @property
    def duplicates(self) -> int:
        return sum(self.duplicate_records.values()) + self.duplicate_notifications


def tally_effects(effects: Iterable[Effect]) -> SideEffects:
    per_case: Counter[tuple[str, str]] = Counter()
    per_message: Counter[tuple[str, str, str | None]] = Counter()
    kinds: Counter[str] = Counter()
    for effect in effects:
        kinds[effect.kind] += 1
        if effect.kind in MESSAGES:
            per_message[(effect.kind, effect.case_id, effect.fingerprint)] += 1
        else:
            per_case[(effect.kind, effect.case_id)] += 1
    extra: Counter[str] = Counter()
    for (kind, _case), n in per_case.items():
        extra[kind] += n - 1
    return SideEffects(
        pension_awards=kinds[AWARD],
        duplicate_awards=extra[AWARD],
        fund_payouts=kinds[PAYOUT],
        duplicate_payouts=extra[PAYOUT],
        notifications=sum(kinds[kind] for kind in MESSAGES),
        duplicate_notifications=sum(n - 1 for n in per_message.values()),
        duplicate_records={kind: n for kind, n in sorted(extra.items()) if n},
    )


def _money(departments: DepartmentLedger) -> list[Effect]:
    """The awards and payouts the departments recorded (one listing of their effects)."""
    return [e for e in departments.effects() if e.kind in (AWARD, PAYOUT)]


async def reconcile(
    client: Client,
    sessions: sessionmaker[Session],
    departments: DepartmentLedger,
    *,
    fetched: Mapping[str, CaseSnapshot] | None = None,
    concurrency: int = 16,
) -> list[Drift]:
    """``fetched``: snapshots the caller has just queried (a chaos or load run), used instead of
    querying those cases again — a closed case's query replays its whole history."""
    now = datetime.now(UTC)
    drifts: list[Drift] = []
    with sessions() as db:
        rows = list(db.scalars(select(CaseRow).order_by(CaseRow.case_id)))
        audited = {
            (a.case_id, a.actor_id, a.action)
            for a in db.scalars(select(AuditLogRow).where(AuditLogRow.result == "accepted"))
        }
    money = await asyncio.to_thread(_money, departments)
    awards = Counter(e.case_id for e in money if e.kind == AWARD)
    payouts = Counter(e.case_id for e in money if e.kind == PAYOUT)
    unscheduled = sum(1 for e in money if e.kind == AWARD and not e.scheduled)
    award_refs = {e.reference: e for e in money if e.kind == AWARD}
    payout_refs = {e.reference: e for e in money if e.kind == PAYOUT}
    if unscheduled:
        drifts.append(Drift("*", f"{unscheduled} pension awards without a payment schedule"))
    for case_id in sorted(set(awards) | set(payouts)):
        if awards[case_id] > 1:
            drifts.append(Drift(case_id, f"{awards[case_id]} pension awards for one case"))
        if payouts[case_id] > 1:
            drifts.append(Drift(case_id, f"{payouts[case_id]} fund payouts for one case"))
    known = {row.case_id for row in rows}
    gate = asyncio.Semaphore(concurrency)

    async def live_of(case_id: str) -> Live | None:
        if fetched is not None and case_id in fetched:
            return Live(fetched[case_id].stage.value, fetched[case_id])
        async with gate:
            return await _live(client, case_id)

    lives = await asyncio.gather(*(live_of(row.case_id) for row in rows))
    for row, live in zip(rows, lives, strict=True):
        settled = row.updated_at < now - SETTLE
        snapshot = CaseSnapshot.model_validate(row.snapshot)
        if live is None:
            if row.closed_at is None and settled:
                drifts.append(Drift(row.case_id, "open in the read model, unknown to Temporal"))
        elif live.closed is not None:
            snapshot = live.closed
            if live.closed.version < row.version:
                drifts.append(Drift(row.case_id, "the read model is ahead of the workflow"))
            elif settled and (live.closed.version > row.version or live.stage != row.stage):
                drifts.append(
                    Drift(row.case_id, f"read model says {row.stage}, the workflow {live.stage}")
                )
        elif settled and live.stage is not None and live.stage != row.stage:
            drifts.append(
                Drift(row.case_id, f"read model says {row.stage}, the workflow {live.stage}")
            )
        for decision in snapshot.decisions:
            action = f"decide-{decision.task_kind}"
            if (row.case_id, decision.actor.id, action) not in audited and settled:
                drifts.append(Drift(row.case_id, f"decision on {decision.task_id} not audited"))
        pension = snapshot.pension
        if pension is not None and pension.award_id is not None:
            award = award_refs.get(pension.award_id)
            if award is None or award.case_id != row.case_id:
                drifts.append(Drift(row.case_id, f"award {pension.award_id} not on record"))
            elif award.amount != pension.monthly_amount:
                drifts.append(Drift(row.case_id, f"award {pension.award_id} amount differs"))
        fund = snapshot.fund
        if fund is not None and fund.payout_id is not None:
            payout = payout_refs.get(fund.payout_id)
            if payout is None or payout.case_id != row.case_id or payout.amount != fund.amount:
                drifts.append(Drift(row.case_id, f"payout {fund.payout_id} not as the case says"))
    running = client.list_workflows(
        "WorkflowType = 'RetirementCase' AND ExecutionStatus = 'Running'"
    )
    async for execution in running:
        started = execution.start_time
        if execution.id not in known and started < now - SETTLE:
            drifts.append(Drift(execution.id, "running, but not in the read model"))
    return drifts


@dataclass(frozen=True)
class Live:
    """What Temporal says of a case: its stage (``None`` when a running case carries no search
    attributes) and, for a closed run only, its whole state."""

    stage: str | None
    closed: CaseSnapshot | None


async def _live(client: Client, case_id: str) -> Live | None:
    handle = client.get_workflow_handle_for(RetirementCase.run, case_id)
    try:
        described = await handle.describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    if described.status is WorkflowExecutionStatus.RUNNING:
        return Live(described.typed_search_attributes.get(search.STAGE), None)
    # That run is closed, so its query cannot touch a running case; pinned to the run, so a
    # newer run (a reset) is not asked instead.
    run = client.get_workflow_handle_for(RetirementCase.run, case_id, run_id=described.run_id)
    snapshot = await run.query(RetirementCase.progress)
    return Live(snapshot.stage.value, snapshot)
