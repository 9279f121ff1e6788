"""公安 public security: household registration checks at declaration, review and approval."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from activities.errors import refusals_are_final
from contracts.departments import HouseholdCheck, HouseholdResult


class HouseholdRegistry(Protocol):
    def verify(self, check: HouseholdCheck) -> HouseholdResult: ...


class PublicSecurityActivities:
    def __init__(self, registry: HouseholdRegistry) -> None:
        self._registry = registry

    @activity.defn(name="public_security.verify_household")
    @refusals_are_final
    def verify_household(self, check: HouseholdCheck) -> HouseholdResult:
        """A mismatch is an answer (``matches = false``), not an error: it goes to a clerk."""
        return self._registry.verify(check)
