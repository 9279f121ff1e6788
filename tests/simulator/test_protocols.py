"""The department systems are what the activities expect: the adapters the worker uses
(``adapters.departments``) and the simulator's systems behind its routes
(``simulator.storage``) each satisfy their department's Protocol (checked by mypy on the
assignments below), and a department's refusal reaches Temporal as a final error."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.exceptions import ApplicationError

from activities.errors import DEPARTMENT_REFUSAL
from activities.health_commission import HealthCommissionActivities, HealthCommissionSystem
from activities.hr import HrActivities, HrSystem
from activities.medical_security import MedicalSecurityActivities, MedicalSystem
from activities.notifications import AppPush, NotificationActivities, Notifier, Sms
from activities.provident_fund import ProvidentFundActivities, ProvidentFundSystem
from activities.public_security import HouseholdRegistry, PublicSecurityActivities
from activities.read_model import ReadModel, ReadModelActivities
from activities.social_insurance import SocialInsuranceActivities, SocialInsuranceSystem
from adapters.departments import Platform
from contracts.departments import (
    DepartmentRefusalInfo,
    HouseholdCheck,
    HouseholdStep,
    PersonQuery,
)
from contracts.people import Department
from db import models as project
from db.outbox import Outbox
from db.read_model import DatabaseReadModel
from db.session import make_engine, make_sessionmaker
from harness.department_simulator import DepartmentSimulator
from notifications.templates import templates
from simulator.storage import (
    DatabaseHealthCommission,
    DatabaseHouseholdRegistry,
    DatabaseHrSystem,
    DatabaseMedicalSystem,
    DatabaseProvidentFund,
    DatabasePush,
    DatabaseSms,
    DatabaseSocialInsurance,
)
from tests.db import factories as f
from tests.simulator.conftest import seed
from tests.support.people import new_simulator_id_number


def test_the_adapters_implement_every_department_protocol(platform: Platform) -> None:
    registry: HouseholdRegistry = platform.household
    hr: HrSystem = platform.hr
    social: SocialInsuranceSystem = platform.social_insurance
    medical: MedicalSystem = platform.medical
    fund: ProvidentFundSystem = platform.provident_fund
    health: HealthCommissionSystem = platform.health
    sms: Sms = platform.sms
    app: AppPush = platform.app_push
    assert all([registry, hr, social, medical, fund, health, sms, app])


@pytest.fixture
def project_engine(database_url: str) -> Iterator[Engine]:
    """The project database (the read model's), which is not the simulator's."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def read_model_case(project_engine: Engine) -> Iterator[str]:
    """A case id of this test's own in the project database (the read model), removed after."""
    case_id = f"retirement-{uuid.uuid4().hex[:12]}"
    yield case_id
    with project_engine.begin() as connection:
        messages = select(project.MessageRow.id).where(project.MessageRow.case_id == case_id)
        connection.execute(
            delete(project.DeliveryRow).where(project.DeliveryRow.message_id.in_(messages))
        )
        connection.execute(delete(project.MessageRow).where(project.MessageRow.case_id == case_id))
        for table in (project.TaskRow, project.EscalationRow, project.AuditLogRow, project.CaseRow):
            connection.execute(delete(table).where(table.case_id == case_id))


def test_every_protocol_has_a_database_implementation(
    sessions: sessionmaker[Session], project_engine: Engine, read_model_case: str
) -> None:
    registry: HouseholdRegistry = DatabaseHouseholdRegistry(sessions)
    hr: HrSystem = DatabaseHrSystem(sessions)
    social: SocialInsuranceSystem = DatabaseSocialInsurance(sessions)
    medical: MedicalSystem = DatabaseMedicalSystem(sessions)
    fund: ProvidentFundSystem = DatabaseProvidentFund(sessions)
    health: HealthCommissionSystem = DatabaseHealthCommission(sessions)
    sms: Sms = DatabaseSms(sessions)
    app: AppPush = DatabasePush(sessions)
    # The outbox is the project's own (its database), the channels the simulator's.
    notifier: Notifier = Outbox(make_sessionmaker(project_engine), templates())
    read_model: ReadModel = DatabaseReadModel(make_sessionmaker(project_engine))

    number = f.id_number(1)
    seed(sessions, number, "张三")
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
    key = f"{read_model_case}:reminder"
    assert NotificationActivities(notifier).send(f.notification(key)).reference.startswith("MS-")
    assert sms.send(f.sms(uuid.uuid4().hex)).reference.startswith("SM-")
    assert app.push(f.push(uuid.uuid4().hex)).reference.startswith("PU-")
    ReadModelActivities(read_model).project(f.projection(f.snapshot(read_model_case)))


def test_a_refusal_reaches_temporal_as_a_non_retryable_error(
    departments: DepartmentSimulator, platform: Platform
) -> None:
    """Over the platform, as the worker meets it: the simulator's 422 becomes the adapter's
    ``DepartmentRefusal`` and the activity's final ``ApplicationError``."""
    number = new_simulator_id_number()
    departments.seed(number, "张三", with_contributions=False)
    activities = SocialInsuranceActivities(platform.social_insurance)
    with pytest.raises(ApplicationError) as excinfo:
        activities.contribution_status(PersonQuery(case_id="case-1", id_number=number))
    error = excinfo.value
    assert (error.type, error.non_retryable) == (DEPARTMENT_REFUSAL, True)
    assert error.details == (
        DepartmentRefusalInfo(
            department=Department.SOCIAL_INSURANCE,
            step="contribution-status",
            reason="no contribution record for this person",
        ),
    )
