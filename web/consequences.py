"""What a clerk's decision will do, said before they submit it: the catalogue's key for each task
kind and outcome (``consequence.<kind>.<outcome>``), following the rules of
``docs/department-issues.md``."""

from __future__ import annotations

from contracts.people import Department
from contracts.workflow import CaseSnapshot, Stage, Task, TaskKind

# After HR's formal approval these departments work side by side, each on its own item: a
# rejected department issue there fails that item only; anywhere else it closes the case.
SIDE_BY_SIDE = {
    Department.SOCIAL_INSURANCE,
    Department.MEDICAL,
    Department.PROVIDENT_FUND,
    Department.HEALTH,
}


def consequence(task: Task, outcome: str, snapshot: CaseSnapshot) -> str:
    if task.kind is TaskKind.DEPARTMENT_ISSUE and outcome == "reject":
        item_only = snapshot.stage is Stage.JOINT_HANDLING and task.department in SIDE_BY_SIDE
        return f"consequence.department-issue.{'reject_item' if item_only else 'reject_case'}"
    return f"consequence.{task.kind.value}.{outcome}"
