"""医保 medical security: deemed years, and retiree cover or a shortfall notice."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from activities.errors import refusals_are_final
from contracts.departments import MedicalRecord, MedicalSwitch, PersonQuery, Receipt


class MedicalSystem(Protocol):
    def medical_record(self, query: PersonQuery) -> MedicalRecord: ...
    def settle_status(self, command: MedicalSwitch) -> Receipt: ...


class MedicalSecurityActivities:
    def __init__(self, system: MedicalSystem) -> None:
        self._system = system

    @activity.defn(name="medical_security.medical_record")
    @refusals_are_final
    def medical_record(self, query: PersonQuery) -> MedicalRecord:
        return self._system.medical_record(query)

    @activity.defn(name="medical_security.settle_status")
    @refusals_are_final
    def settle_status(self, command: MedicalSwitch) -> Receipt:
        """Switch to retiree cover, or record the shortfall notice; once per idempotency key."""
        return self._system.settle_status(command)
