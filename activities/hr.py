"""人社 HR and social security bureau: the formal retirement approval."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from activities.errors import refusals_are_final
from contracts.departments import ApprovalCommand, Receipt


class HrSystem(Protocol):
    def record_approval(self, command: ApprovalCommand) -> Receipt: ...


class HrActivities:
    def __init__(self, system: HrSystem) -> None:
        self._system = system

    @activity.defn(name="hr.record_approval")
    @refusals_are_final
    def record_approval(self, command: ApprovalCommand) -> Receipt:
        """Record the formal approval (正式审批); the receipt's reference is the approval number."""
        return self._system.record_approval(command)
