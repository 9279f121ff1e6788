"""The worker registers every activity the department classes define, each once."""

from __future__ import annotations

from unittest.mock import MagicMock

from temporalio import activity

from activities.health_commission import HealthCommissionActivities
from activities.hr import HrActivities
from activities.medical_security import MedicalSecurityActivities
from activities.notifications import NotificationActivities
from activities.provident_fund import ProvidentFundActivities
from activities.public_security import PublicSecurityActivities
from activities.read_model import ReadModelActivities
from activities.social_insurance import SocialInsuranceActivities
from worker import DepartmentSystems, activities_for

CLASSES = (
    PublicSecurityActivities, HrActivities, SocialInsuranceActivities, MedicalSecurityActivities,
    ProvidentFundActivities, HealthCommissionActivities, NotificationActivities,
    ReadModelActivities,
)  # fmt: skip


def _name(fn: object) -> str:
    definition = activity._Definition.from_callable(fn)  # type: ignore[arg-type]
    assert definition is not None and definition.name is not None
    return definition.name


def test_every_defined_activity_is_registered_once() -> None:
    systems = DepartmentSystems(*[MagicMock() for _ in range(8)])
    registered = [_name(fn) for fn in activities_for(systems)]
    assert len(registered) == len(set(registered))
    defined = {
        _name(member)
        for cls in CLASSES
        for member in vars(cls).values()
        if hasattr(member, "__temporal_activity_definition")
    }
    assert defined | {"policy.load"} == set(registered)
    assert "provident_fund.withdraw_and_close" in registered  # the probe sees methods at all
