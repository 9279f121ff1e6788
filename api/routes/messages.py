"""What the service told the people of a case: each message, in Chinese, and how it was
delivered (``notifications/``). The retiree sees theirs, the employer or agency its own, and
the clerks and supervisors of the case's region every one, with the person's masked number."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from api.deps import CaseIdPath, ContextDep, PrincipalDep
from api.problems import Problem, problems
from api.schemas import CaseMessages, DeliveryView, MessageView
from api.workflow_gateway import case_facts, may_view
from contracts.people import Role
from db.contacts import masked_mobile
from db.outbox import messages_of_case

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
