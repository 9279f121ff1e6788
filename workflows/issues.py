"""What rejecting a task does, stage by stage, in the words the clerk reads on the task before
deciding; and when a department that keeps refusing a step the same way goes to its supervisors.

Up to and including HR's formal approval every step is one the whole case depends on: rejecting
it closes the case as rejected. After the approval the four departments work side by side on
their own items: a rejection there fails (or refuses) that item, the other departments go on,
and the case completes without it. docs/department-issues.md shows the same table; a test keeps
the two in step. Pure (no Temporal calls): the workflow imports it through the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.departments import HouseholdStep
from contracts.workflow import ItemKey, Stage, TaskKind

# A department refusing the same step for the same reason this many times in a row goes to its
# supervisors: approving again without a fix only mints the same task (one clerk made 215 in
# three minutes), and a fix that takes three tries needs someone who can reach the department.
ESCALATE_AFTER = 3

# Patch id (docs/versioning.md): cases started before it re-open a plain task for a repeated
# refusal however often it comes, and never escalate it.
ISSUE_ESCALATION = "department-issue-escalation-2026-12"


def item_number(key: ItemKey) -> int:
    """The item's number in the notice's list of nine (as the progress page numbers them)."""
    return list(ItemKey).index(key) + 1


def _case_closes(why: str) -> str:
    return f"the whole case closes as rejected: {why}"


def _item_goes(key: ItemKey, outcome: str) -> str:
    return (
        f"item {item_number(key)} ({key}) is recorded as {outcome}; the other departments go "
        "on and the case completes without it"
    )


@dataclass(frozen=True, slots=True)
class IfRejected:
    """One row of the table: where, which step or task, and what a rejection does."""

    stage: str
    step: str
    text: str


def _issue(stage: Stage | str, step: str, text: str) -> IfRejected:
    return IfRejected(str(stage), step, text)


# ---- department issues: a department's system refused a step --------------------------------

HOUSEHOLD_CHECK = {
    step: _issue(
        stage,
        f"household check at {step}",
        _case_closes(
            "no retirement is approved on a household registration that could not be checked "
            f"(item {item_number(ItemKey.HOUSEHOLD)} fails)"
        ),
    )
    for step, stage in (
        (HouseholdStep.DECLARATION, Stage.DECLARATION),
        (HouseholdStep.PRE_REVIEW, Stage.PRE_REVIEW),
        (HouseholdStep.APPROVAL, Stage.JOINT_HANDLING),
    )
}
PREREVIEW_PUSH = _issue(
    Stage.PRE_REVIEW,
    "receive pre-review data",
    _case_closes("social insurance cannot check the contributions without the pre-review data"),
)
CONTRIBUTION_RECORD = _issue(
    Stage.CONTRIBUTION_CHECK,
    "read the contribution record",
    _case_closes("the contribution check cannot be made without a contribution record"),
)
SETTLEMENT = _issue(
    Stage.CONTRIBUTION_CHECK,
    "settle <problem>",
    _case_closes("the contribution problem stays unsettled"),
)
APPROVAL_RECORD = _issue(
    Stage.JOINT_HANDLING,
    "record the formal approval",
    _case_closes("the formal approval is not on record, and no department may act without it"),
)
_PENSION_FAILS = _item_goes(ItemKey.PENSION_PAYMENT, "failed")
RETIREE_SWITCH = _issue(Stage.JOINT_HANDLING, "switch to retiree", _PENSION_FAILS)
PENSION_RECORD = _issue(Stage.JOINT_HANDLING, "read the contribution record", _PENSION_FAILS)
PENSION_AWARD = _issue(Stage.JOINT_HANDLING, "award the pension", _PENSION_FAILS)
_MEDICAL_FAILS = _item_goes(ItemKey.MEDICAL_DEEMED_YEARS, "failed")
MEDICAL_RECORD = _issue(Stage.JOINT_HANDLING, "read the medical insurance record", _MEDICAL_FAILS)
MEDICAL_STATUS = _issue(Stage.JOINT_HANDLING, "settle retiree medical status", _MEDICAL_FAILS)
_FUND_FAILS = _item_goes(ItemKey.PROVIDENT_FUND, "failed")
FUND_ACCOUNT = _issue(Stage.JOINT_HANDLING, "read the fund account", _FUND_FAILS)
FUND_WITHDRAWAL = _issue(Stage.JOINT_HANDLING, "withdraw and close", _FUND_FAILS)
REWARD_NOTICE = _issue(
    Stage.JOINT_HANDLING,
    "record the reward notice",
    _item_goes(ItemKey.ONE_CHILD_REWARD, "failed"),
)

DEPARTMENT_STEPS: tuple[IfRejected, ...] = (
    *HOUSEHOLD_CHECK.values(),
    PREREVIEW_PUSH,
    CONTRIBUTION_RECORD,
    SETTLEMENT,
    APPROVAL_RECORD,
    RETIREE_SWITCH,
    PENSION_RECORD,
    PENSION_AWARD,
    MEDICAL_RECORD,
    MEDICAL_STATUS,
    FUND_ACCOUNT,
    FUND_WITHDRAWAL,
    REWARD_NOTICE,
)


# ---- clerks' own tasks: what rejecting (not approving) the decision does --------------------

CLERK_TASKS: dict[TaskKind, IfRejected] = {
    TaskKind.HOUSEHOLD_REVIEW: _issue(
        f"{Stage.DECLARATION}, {Stage.PRE_REVIEW}, {Stage.JOINT_HANDLING}",
        "household-review",
        _case_closes(
            f"the household registration is not confirmed (item {item_number(ItemKey.HOUSEHOLD)} "
            "refused)"
        ),
    ),
    TaskKind.PRE_REVIEW: _issue(
        Stage.PRE_REVIEW,
        "pre-review",
        _case_closes(
            "the HR items are refused; return the declaration instead to have it corrected"
        ),
    ),
    TaskKind.CONFIRM_CONTRIBUTIONS: _issue(
        Stage.CONTRIBUTION_CHECK,
        "confirm-contributions",
        _case_closes(
            f"item {item_number(ItemKey.PENSION_ELIGIBILITY)} ({ItemKey.PENSION_ELIGIBILITY}) is "
            "refused; return instead to read the corrected record again"
        ),
    ),
    TaskKind.FORMAL_APPROVAL: _issue(
        Stage.JOINT_HANDLING,
        "formal-approval",
        _case_closes(
            f"item {item_number(ItemKey.PENSION_ELIGIBILITY)} ({ItemKey.PENSION_ELIGIBILITY}) is "
            "refused and no department acts"
        ),
    ),
    TaskKind.CONFIRM_PENSION: _issue(
        Stage.JOINT_HANDLING,
        "confirm-pension",
        _item_goes(ItemKey.PENSION_PAYMENT, "refused")
        + "; return instead to calculate again from the corrected record",
    ),
    TaskKind.CONFIRM_MEDICAL_YEARS: _issue(
        Stage.JOINT_HANDLING,
        "confirm-medical-years",
        _item_goes(ItemKey.MEDICAL_DEEMED_YEARS, "refused"),
    ),
    TaskKind.FUND_WITHDRAWAL: _issue(
        Stage.JOINT_HANDLING,
        "fund-withdrawal",
        _item_goes(ItemKey.PROVIDENT_FUND, "refused"),
    ),
}


def issue_title(department: str, step: str, attempt: int, *, escalated: bool) -> str:
    """The title a clerk sees in the inbox: a repeated refusal says so, and which attempt."""
    if attempt == 1:
        return f"{department} refused '{step}': resolve, then approve to retry"
    title = f"attempt {attempt}: {department} refused the same way again ('{step}')"
    if escalated:
        return f"{title}: escalated, a supervisor decides"
    return f"{title}: resolve the cause before approving"
