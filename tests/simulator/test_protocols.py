"""The database systems are what the activities expect: each satisfies its department's Protocol
(checked by mypy on the assignments below) and its refusals reach Temporal as final errors."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.exceptions import ApplicationError

from activities.errors import DEPARTMENT_REFUSAL
from activities.health_commission import HealthCommissionActivities, HealthCommissionSystem
from activities.hr import HrActivities, HrSystem
from activities.medical_security import MedicalSecurityActivities, MedicalSystem
from activities.notifications import NotificationActivities, Notifier
from activities.provident_fund import ProvidentFundActivities, ProvidentFundSystem
from activities.public_security import HouseholdRegistry, PublicSecurityActivities
from activities.read_model import ReadModel, ReadModelActivities
from activities.social_insurance import SocialInsuranceActivities, SocialInsuranceSystem
from contracts.case import Department
from contracts.departments import (
    DepartmentRefusalInfo,
    HouseholdCheck,
    HouseholdStep,
    PersonQuery,
)
from db.departments import (
    DatabaseHealthCommission,
    DatabaseHouseholdRegistry,
    DatabaseHrSystem,
    DatabaseMedicalSystem,
    DatabaseNotifier,
    DatabaseProvidentFund,
    DatabaseSocialInsurance,
)
from db.read_model import DatabaseReadModel
from db.seed import seed_person
from tests.db import factories as f


def test_every_protocol_has_a_database_implementation(sessions: sessionmaker[Session]) -> None:
    registry: HouseholdRegistry = DatabaseHouseholdRegistry(sessions)
    hr: HrSystem = DatabaseHrSystem(sessions)
    social: SocialInsuranceSystem = DatabaseSocialInsurance(sessions)
    medical: MedicalSystem = DatabaseMedicalSystem(sessions)
    fund: ProvidentFundSystem = DatabaseProvidentFund(sessions)
    health: HealthCommissionSystem = DatabaseHealthCommission(sessions)
    notifier: Notifier = DatabaseNotifier(sessions)
    read_model: ReadModel = DatabaseReadModel(sessions)

    number = f.id_number(1)
    seed_person(sessions, number, "张三")
    query = PersonQuery(case_id="case-1", id_number=number)
    assert (
        PublicSecurityActivities(registry)
        .verify_household(
            HouseholdCheck(
                case_id="case-1",
                step=HouseholdStep.DECLARATION,
                id_number=number,
                name="张三",
                region_code=f.REGION,
            )
        )
        .matches
    )
    assert HrActivities(hr).record_approval(f.approval(number)).reference.startswith("RA-")
    assert SocialInsuranceActivities(social).contribution_status(query).problems == []
    assert MedicalSecurityActivities(medical).medical_record(query).actual_years > 0
    assert ProvidentFundActivities(fund).account(query).found
    assert HealthCommissionActivities(health).record_reward_notice(f.reward_notice(number))
    assert NotificationActivities(notifier).send(f.notification()).reference.startswith("NT-")
    ReadModelActivities(read_model).project(f.projection(f.snapshot()))


def test_a_refusal_reaches_temporal_as_a_non_retryable_error(
    sessions: sessionmaker[Session],
) -> None:
    activities = SocialInsuranceActivities(DatabaseSocialInsurance(sessions))
    with pytest.raises(ApplicationError) as excinfo:
        activities.contribution_status(PersonQuery(case_id="case-1", id_number=f.id_number(9)))
    error = excinfo.value
    assert (error.type, error.non_retryable) == (DEPARTMENT_REFUSAL, True)
    assert error.details == (
        DepartmentRefusalInfo(
            department=Department.SOCIAL_INSURANCE,
            step="contribution-status",
            reason="no contribution record for this person",
        ),
    )
