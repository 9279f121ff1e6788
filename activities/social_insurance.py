"""社保经办 social insurance: pre-review data, contribution check, retiree switch, pension."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from activities.errors import refusals_are_final
from contracts.departments import (
    PensionAward,
    PersonQuery,
    PrereviewPush,
    Receipt,
    RetireeSwitch,
    SettleCommand,
)
from contracts.workflow import ContributionStatus


class SocialInsuranceSystem(Protocol):
    def receive_prereview(self, push: PrereviewPush) -> Receipt: ...
    def contribution_status(self, query: PersonQuery) -> ContributionStatus: ...
    def settle(self, command: SettleCommand) -> Receipt: ...
    def switch_to_retiree(self, command: RetireeSwitch) -> Receipt: ...
    def award_pension(self, command: PensionAward) -> Receipt: ...


class SocialInsuranceActivities:
    def __init__(self, system: SocialInsuranceSystem) -> None:
        self._system = system

    @activity.defn(name="social_insurance.receive_prereview")
    @refusals_are_final
    def receive_prereview(self, push: PrereviewPush) -> Receipt:
        return self._system.receive_prereview(push)

    @activity.defn(name="social_insurance.contribution_status")
    @refusals_are_final
    def contribution_status(self, query: PersonQuery) -> ContributionStatus:
        """Arrears, interruptions, accounts to consolidate and transfers still open; no record at
        all is a refusal for the clerk."""
        return self._system.contribution_status(query)

    @activity.defn(name="social_insurance.settle")
    @refusals_are_final
    def settle(self, command: SettleCommand) -> Receipt:
        return self._system.settle(command)

    @activity.defn(name="social_insurance.switch_to_retiree")
    @refusals_are_final
    def switch_to_retiree(self, command: RetireeSwitch) -> Receipt:
        return self._system.switch_to_retiree(command)

    @activity.defn(name="social_insurance.award_pension")
    @refusals_are_final
    def award_pension(self, command: PensionAward) -> Receipt:
        """The pension award and its payment schedule, once per idempotency key."""
        return self._system.award_pension(command)
