"""卫健 health commission: the one-child parents' reward notice shown to people it concerns."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from activities.errors import refusals_are_final
from contracts.departments import Receipt, RewardNoticeRecord


class HealthCommissionSystem(Protocol):
    def record_reward_notice(self, command: RewardNoticeRecord) -> Receipt: ...


class HealthCommissionActivities:
    def __init__(self, system: HealthCommissionSystem) -> None:
        self._system = system

    @activity.defn(name="health_commission.record_reward_notice")
    @refusals_are_final
    def record_reward_notice(self, command: RewardNoticeRecord) -> Receipt:
        return self._system.record_reward_notice(command)
