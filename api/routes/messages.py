"""What the service told the people of a case: each message, in Chinese, and how it was
delivered (``notifications/``). The retiree sees theirs, the employer or agency its own, and
the clerks and supervisors of the case's region every one, with the person's masked number.
The number texts go to is changed here too, by the person, their employer or agency, or an HR
clerk at the counter."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from api.deps import CaseIdPath, ContextDep, PrincipalDep
from api.problems import Problem, problems
from api.queries import record_action
from api.routes.cases import parties
from api.schemas import CaseMessages, Contact, ContactBody, DeliveryView, MessageView
from api.workflow_gateway import case_facts, may_view, refuse
from contracts.people import Department, Role
from db.contacts import masked_mobile, save_mobile
from db.outbox import messages_of_case
from notifications.contacts import mask_mobile

router = APIRouter(prefix="/cases", tags=["cases"])

# Whose messages each caller reads: a person's are theirs, an organisation's its own.
READS: dict[Role, tuple[str, ...]] = {
    Role.INDIVIDUAL: ("individual",),
    Role.EMPLOYER: ("organisation",),
    Role.AGENCY: ("organisation",),
}
STAFF_READS = ("individual", "organisation", "clerk", "supervisor")


@router.get(
    "/{case_id}/messages",
    response_model=CaseMessages,
    summary="The case's messages and their deliveries (newest first)",
    responses=problems(401, 403, 404, 422, 503),
)
async def case_messages(case_id: CaseIdPath, ctx: ContextDep, who: PrincipalDep) -> CaseMessages:
    facts = await case_facts(ctx, case_id)
    if not may_view(who, facts):
        raise Problem(403, "this case is not yours to see", "forbidden")
    roles = READS.get(who.role, STAFF_READS)
    sees_number = who.role not in (Role.EMPLOYER, Role.AGENCY)

    def read() -> CaseMessages:
        with ctx.read_sessions() as db:
            listed = messages_of_case(db, case_id, roles)
            mobile = masked_mobile(db, facts.person_key) if sees_number else None
        return CaseMessages(
            case_id=case_id,
            mobile_masked=mobile,
            items=[
                MessageView(
                    id=m.id,
                    to=m.recipient_role,
                    kind=m.kind,
                    title=m.title,
                    text=m.text,
                    at=m.created_at,
                    deliveries=[
                        DeliveryView(
                            channel=d.channel,
                            status=d.status,
                            attempts=d.attempts,
                            sent_at=d.sent_at,
                        )
                        for d in m.deliveries
                    ],
                )
                for m in listed
            ],
        )

    return await asyncio.to_thread(read)


@router.put(
    "/{case_id}/contact",
    response_model=Contact,
    summary="Change the mobile number the person's texts go to",
    responses=problems(400, 401, 403, 404, 413, 422, 503),
)
async def change_contact(
    case_id: CaseIdPath, body: ContactBody, ctx: ContextDep, who: PrincipalDep
) -> Contact:
    """The person, their employer or agency, or an HR clerk of the region at the counter
    (``at_counter: true``). Kept sealed, answered and audited masked; the next text goes there."""
    facts = await case_facts(ctx, case_id)
    actor = who.actor(at_counter=body.at_counter)
    reason = parties(Role.EMPLOYER, Role.AGENCY, Role.INDIVIDUAL, Role.CLERK)(who, facts)
    counter = body.at_counter and who.department is Department.HR
    if reason is None and who.role is Role.CLERK and not counter:
        reason = "a clerk changes a person's number only at the counter, in HR"
    if reason is not None:
        raise await refuse(ctx, facts, actor, "change-contact", Problem(403, reason, "forbidden"))
    masked = mask_mobile(body.mobile)

    def write() -> None:
        with ctx.sessions.begin() as db:
            save_mobile(db, facts.person_key, body.mobile, ctx.sealer)
            record_action(db, case_id, actor, "change-contact", f"mobile {masked}", "accepted")

    await asyncio.to_thread(write)
    return Contact(case_id=case_id, mobile_masked=masked)
