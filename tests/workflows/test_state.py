"""The case's one state object (``workflows.state.State``) and what it carries across
continue-as-new: the existing wire shape (``contracts.workflow.CaseState``), field for field, and
back again unchanged.

No Temporal server: the state is built directly, as a previous run would have left it (the
bookkeeping that stamps ``workflow.now()`` runs only inside a workflow; the workflow suites and
``tests/integration/test_continue_as_new.py`` drive it there).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from contracts.declarations import Declaration
from contracts.people import Department
from contracts.workflow import (
    ITEM_DEPARTMENT,
    Assignee,
    CaseEvent,
    CaseInput,
    CaseSnapshot,
    CaseState,
    ContributionProblem,
    ContributionProblemKind,
    ContributionStatus,
    DecisionRecord,
    Escalation,
    FundResult,
    Item,
    ItemKey,
    ItemStatus,
    Outcome,
    Stage,
    Task,
    TaskKind,
    TaskStatus,
)
from domain.policy import Policy
from domain.timeline import CHINA_TZ
from tests.workflows.conftest import clerk, person
from workflows.state import State, carried_fields

# What a snapshot computes from the input and the plan instead of carrying (State.snapshot).
DERIVED_IN_SNAPSHOT = {
    "case_id",
    "path",
    "region_code",
    "organisation",
    "has_employer",
    "person_name",
    "id_masked",
    "category",
    "deadlines",
    "declaration",  # the state's own, shown as it is
}
AT = datetime(2026, 12, 1, 9, 30, tzinfo=CHINA_TZ)


def test_every_carried_field_is_declared_once() -> None:
    """A field added to ``CaseState`` or ``CaseSnapshot`` without its place in ``State`` (or the
    other way round) would be silently dropped at continue-as-new: declare it in both."""
    kept = [wire for _, wire in carried_fields("state")]
    shown = [wire for _, wire in carried_fields("snapshot")]
    assert len(set(kept)) == len(kept)
    assert len(set(shown)) == len(shown)
    assert set(kept) == set(CaseState.model_fields) - {"snapshot"}
    assert not set(shown) & DERIVED_IN_SNAPSHOT
    assert set(shown) | DERIVED_IN_SNAPSHOT == set(CaseSnapshot.model_fields)


def _a_case_in_contribution_check(policy: Policy) -> State:
    """A case part-way through: a decision taken, a problem open, timers fired, an escalation."""
    declaration = Declaration(contribution_years=Decimal(30), deemed_years=Decimal(2))
    who = person(date(1967, 3, 15))
    state = State(
        input=CaseInput(case_id="retirement-abc", person_key="a" * 64, person=who, policy=policy),
        policy=policy,
        category=who.category,
        birth_month=who.birth_month,
        schedule_from=AT,
        stage=Stage.CONTRIBUTION_CHECK,
        declaration=declaration,
    )
    hr = clerk(Department.HR)
    problem = ContributionProblem(
        id="p1", kind=ContributionProblemKind.ARREARS, detail="owed", amount_yuan=Decimal(120)
    )
    state.tasks = {
        "pre-review-1": Task(
            id="pre-review-1",
            kind=TaskKind.PRE_REVIEW,
            title="pre-review",
            assignee=Assignee.CLERK,
            department=Department.HR,
            opened_at=AT,
            status=TaskStatus.DONE,
            outcome=Outcome.APPROVE,
            closed_at=AT,
            closed_by=hr,
        ),
        "settle-contributions-2": Task(
            id="settle-contributions-2",
            kind=TaskKind.SETTLE_CONTRIBUTIONS,
            title="settle",
            assignee=Assignee.ORGANISATION,
            organisation=who.employer_id,
            opened_at=AT,
            due=date(2027, 1, 31),
            problem=problem,
        ),
    }
    state.items = {
        key: Item(key=key, department=ITEM_DEPARTMENT[key], status=ItemStatus.NOT_STARTED)
        for key in ItemKey
    }
    state.decisions = [
        DecisionRecord(
            request_id="r-1",
            task_id="pre-review-1",
            task_kind=TaskKind.PRE_REVIEW,
            department=Department.HR,
            outcome=Outcome.APPROVE,
            reason=None,
            evidence=[],
            actor=hr,
            at=AT,
            via="update",
            deemed_years=Decimal(3),
        )
    ]
    state.escalations = [
        Escalation(id="esc-1", at=AT, department=Department.SOCIAL_INSURANCE, reason="late")
    ]
    state.events = [CaseEvent(at=AT, stage=Stage.PRE_REVIEW, event="stage: pre-review", actor="x")]
    state.overdue = {"contribution-check", "declaration"}
    state.late_declaration = True
    state.reminders_sent = 2
    state.fund = FundResult(amount=Decimal(10))
    state.version = 42
    state.contribution = ContributionStatus(
        status="arrears",
        problems=[problem],
        contribution_index=Decimal("1.1"),
        actual_years=Decimal(29),
        deemed_years=Decimal(2),
        account_balance=Decimal(1000),
    )
    state.deemed_years = Decimal(3)
    state.household_confirmed = "name differs"
    state.processed = {"r-1", "r-0"}
    state.fired = {"reminder:b", "reminder:a"}
    state.task_counter = 2
    state.audit_counter = 5
    return state


def test_what_a_run_carries_over_comes_back_unchanged(policy: Policy) -> None:
    state = _a_case_in_contribution_check(policy)
    carried = state.carried()
    # The wire shape: sets sorted, dicts as lists, the snapshot's own derived fields filled in.
    assert carried.processed_requests == ["r-0", "r-1"]
    assert carried.fired_timers == ["reminder:a", "reminder:b"]
    assert carried.projected_audit == 5
    assert carried.snapshot.overdue == ["contribution-check", "declaration"]
    assert [i.key for i in carried.snapshot.items] == list(ItemKey)
    assert carried.snapshot.case_id == "retirement-abc"
    assert carried.snapshot.deadlines.retirement_month == state.timeline.retirement_month

    next_input = CaseInput.model_validate_json(state.carry_over().model_dump_json())
    assert next_input.state == carried
    assert next_input.declaration is None
    again = State.from_carried(next_input, carried)
    for where in ("snapshot", "state"):
        for spec, _ in carried_fields(where):
            assert getattr(again, spec.name) == getattr(state, spec.name), spec.name
    assert again.carried() == carried
    assert again.plan == state.plan
    assert again.audit == []  # this run's: written by the projector before carrying over


def test_a_new_state_is_a_case_awaiting_its_declaration(policy: Policy) -> None:
    who = person(date(1967, 3, 15))
    input = CaseInput(case_id="retirement-abc", person_key="a" * 64, person=who, policy=policy)
    state = State(
        input=input,
        policy=policy,
        category=who.category,
        birth_month=who.birth_month,
        schedule_from=AT,
    )
    assert state.stage is Stage.AWAITING_DECLARATION
    assert state.tasks == {} and state.processed == set() and state.version == 0
    assert state.timeline.retirement_month == state.plan.retirement_month
