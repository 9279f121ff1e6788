"""The side effects each simulated system recorded, as reconciliation reads them
(``GET {system}/v1/effects``), a page at a time."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.platform import Effect, EffectPage, System
from simulator.models import (
    ContributionSettlement,
    FundPayout,
    InsuredStatusChange,
    MedicalStatusChange,
    PaymentSchedule,
    PensionAwardRow,
    PrereviewReceipt,
    PushRow,
    RetirementApproval,
    RewardNotice,
    SmsRow,
)

# Each system's effect kinds, in the order pages walk them.
KINDS: dict[System, tuple[tuple[str, Any], ...]] = {
    System.PUBLIC_SECURITY: (),
    System.HR: (("retirement-approval", RetirementApproval),),
    System.SOCIAL_INSURANCE: (
        ("prereview-receipt", PrereviewReceipt),
        ("settlement", ContributionSettlement),
        ("retiree-switch", InsuredStatusChange),
        ("pension-award", PensionAwardRow),
    ),
    System.MEDICAL_SECURITY: (("status-change", MedicalStatusChange),),
    System.PROVIDENT_FUND: (("payout", FundPayout),),
    System.HEALTH_COMMISSION: (("reward-notice", RewardNotice),),
    System.SMS: (("sms", SmsRow),),
    System.APP_PUSH: (("push", PushRow),),
}
MAX_PAGE = 1000


def _effect(system: System, kind: str, row: Any, scheduled: set[int]) -> Effect:
    amount = None
    fingerprint = None
    reference = row.reference
    if isinstance(row, PensionAwardRow):
        amount, reference = row.monthly_amount, row.award_no or reference
    elif isinstance(row, FundPayout):
        amount, reference = row.amount, row.payout_no or reference
    elif isinstance(row, RetirementApproval):
        reference = row.approval_no or reference
    elif isinstance(row, SmsRow | PushRow):
        to = row.mobile if isinstance(row, SmsRow) else row.user
        fingerprint = hashlib.sha256(f"{to}\x1f{row.text}".encode()).hexdigest()[:32]
    return Effect(
        id=row.id,
        system=system,
        kind=kind,
        case_id=row.case_id,
        idempotency_key=row.idempotency_key,
        reference=reference,
        at=row.created_at,
        amount=amount,
        scheduled=(row.id in scheduled) if isinstance(row, PensionAwardRow) else None,
        fingerprint=fingerprint,
    )


def page(
    session: Session, system: System, *, case_id: str | None, after: str | None, limit: int
) -> EffectPage:
    """Up to ``limit`` effects after the cursor ``after`` (``kind:id``), oldest first."""
    kinds = KINDS[system]
    start_kind, after_id = after.split(":", 1) if after else (kinds[0][0] if kinds else "", "0")
    names = [k for k, _ in kinds]
    if kinds and start_kind not in names:
        raise ValueError(f"cursor names no effect kind of {system}")
    effects: list[Effect] = []
    next_after: str | None = None
    for position, (kind, model) in enumerate(kinds):
        if position < names.index(start_kind):
            continue
        floor = int(after_id) if kind == start_kind else 0
        query = select(model).where(model.id > floor).order_by(model.id)
        if case_id is not None:
            query = query.where(model.case_id == case_id)
        rows = list(session.scalars(query.limit(limit - len(effects) + 1)))
        scheduled: set[int] = set()
        if model is PensionAwardRow and rows:
            scheduled = set(
                session.scalars(
                    select(PaymentSchedule.award_id).where(
                        PaymentSchedule.award_id.in_([r.id for r in rows])
                    )
                )
            )
        room = limit - len(effects)
        taken = rows[:room]
        effects += [_effect(system, kind, row, scheduled) for row in taken]
        if len(rows) > room:
            next_after = f"{kind}:{taken[-1].id if taken else floor}"
            break
    return EffectPage(effects=effects, next_after=next_after)
