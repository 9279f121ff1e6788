"""Scenarios (``simulator.scenarios``): every named one puts a person in the state its name says,
a scenarios CSV is applied whole or not at all, and the admin API that takes them is guarded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from adapters.departments import Platform
from adapters.platform import DepartmentUnavailable
from contracts.departments import (
    FundAccount,
    FundAccountStatus,
    HouseholdCheck,
    HouseholdStep,
    PersonQuery,
)
from contracts.people import Department
from contracts.workflow import ContributionProblemKind
from domain.idcard import check_character
from harness.department_simulator import DepartmentSimulator
from simulator import people, scenarios
from simulator import storage as d
from simulator.models import ScriptedPerson
from simulator.storage import Refused
from tests.db import factories as f
from tests.support.people import fixed_id_number, new_simulator_id_number

ID = f.id_number(1)
NAME = "张三"


def _query(number: str = ID) -> PersonQuery:
    return PersonQuery(case_id="case-1", id_number=number)


def _check(number: str = ID, name: str = NAME) -> HouseholdCheck:
    return HouseholdCheck(
        case_id="case-1",
        step=HouseholdStep.DECLARATION,
        id_number=number,
        name=name,
        region_code=f.REGION,
    )


def _refusal(call: Callable[[], object]) -> Refused:
    with pytest.raises(Refused) as excinfo:
        call()
    return excinfo.value


# ---- every named scenario ------------------------------------------------------------------

Check = Callable[[sessionmaker[Session]], None]


def _normal(sessions: sessionmaker[Session]) -> None:
    assert d.DatabaseHouseholdRegistry(sessions).verify(_check()).matches
    status = d.DatabaseSocialInsurance(sessions).contribution_status(_query())
    derived = people.contributions(ID)
    assert (status.status, status.problems) == ("normal", [])
    assert (status.actual_years, status.deemed_years, status.contribution_index) == (
        derived.actual_years,
        derived.deemed_years,
        derived.contribution_index,
    )
    medical = d.DatabaseMedicalSystem(sessions).medical_record(_query())
    assert medical.actual_years + medical.deemed_years > 0
    balance = people.fund_account(ID).balance
    receipt = d.DatabaseProvidentFund(sessions).withdraw_and_close(f.withdrawal(ID))
    assert (receipt.amount, receipt.duplicate) == (balance, False)


def _problem(kind: ContributionProblemKind) -> Check:
    def check(sessions: sessionmaker[Session]) -> None:
        status = d.DatabaseSocialInsurance(sessions).contribution_status(_query())
        assert status.status == "problems"
        assert [p.kind for p in status.problems] == [kind]
        # The problem can be settled, and then it is gone.
        d.DatabaseSocialInsurance(sessions).settle(f.settle(ID, problem_id=status.problems[0].id))
        assert d.DatabaseSocialInsurance(sessions).contribution_status(_query()).problems == []

    return check


def _household(matches: bool, detail: str) -> Check:
    def check(sessions: sessionmaker[Session]) -> None:
        result = d.DatabaseHouseholdRegistry(sessions).verify(_check())
        assert (result.matches, result.detail) == (matches, detail)

    return check


def _no_contribution_record(sessions: sessionmaker[Session]) -> None:
    refused = _refusal(lambda: d.DatabaseSocialInsurance(sessions).contribution_status(_query()))
    assert (refused.department, refused.code, refused.reason) == (
        Department.SOCIAL_INSURANCE,
        "no-record",
        d.NO_CONTRIBUTION_RECORD,
    )
    assert d.DatabaseHouseholdRegistry(sessions).verify(_check()).matches  # only that is missing


def _medical_shortfall(sessions: sessionmaker[Session]) -> None:
    record = d.DatabaseMedicalSystem(sessions).medical_record(_query())
    assert (record.actual_years, record.deemed_years) == (Decimal(8), Decimal(2))


def _no_fund_account(sessions: sessionmaker[Session]) -> None:
    assert d.DatabaseProvidentFund(sessions).account(_query()) == FundAccount(found=False)
    refused = _refusal(
        lambda: d.DatabaseProvidentFund(sessions).withdraw_and_close(f.withdrawal(ID))
    )
    assert (refused.code, refused.reason) == ("no-record", d.NO_FUND_ACCOUNT)


def _fund_refuses(status: FundAccountStatus, reason: str, code: str) -> Check:
    def check(sessions: sessionmaker[Session]) -> None:
        account = d.DatabaseProvidentFund(sessions).account(_query())
        assert (account.found, account.status) == (True, status)
        refused = _refusal(
            lambda: d.DatabaseProvidentFund(sessions).withdraw_and_close(f.withdrawal(ID))
        )
        assert (refused.department, refused.step, refused.reason, refused.code) == (
            Department.PROVIDENT_FUND,
            "withdraw-and-close",
            reason,
            code,
        )

    return check


def _no_card(sessions: sessionmaker[Session]) -> None:
    assert d.DatabaseProvidentFund(sessions).account(_query()).card_last4 is None
    _fund_refuses(FundAccountStatus.ACTIVE, d.NO_CARD, "no-card")(sessions)


EXPECTED: dict[str, Check] = {
    "normal": _normal,
    "arrears": _problem(ContributionProblemKind.ARREARS),
    "interruption": _problem(ContributionProblemKind.INTERRUPTION),
    "transfer-pending": _problem(ContributionProblemKind.TRANSFER),
    "consolidation": _problem(ContributionProblemKind.CONSOLIDATION),
    "no-household": _household(False, d.HOUSEHOLD_NOT_FOUND),
    "name-differs": _household(False, d.HOUSEHOLD_NAME_DIFFERS),
    "deceased": _household(False, "registered as deceased"),
    "no-contribution-record": _no_contribution_record,
    "medical-shortfall": _medical_shortfall,
    "no-fund-account": _no_fund_account,
    "frozen-fund": _fund_refuses(FundAccountStatus.FROZEN, d.FUND_FROZEN, "frozen"),
    "no-card": _no_card,
}


def test_every_named_scenario_is_checked() -> None:
    assert set(EXPECTED) == set(scenarios.SCENARIOS)


@pytest.mark.parametrize("name", scenarios.SCENARIOS)
def test_a_named_scenario_puts_the_person_in_its_state(
    sessions: sessionmaker[Session], name: str
) -> None:
    scenarios.apply(sessions, ID, scenarios.named(ID, NAME, name))
    with sessions() as session:
        scripted = session.get(ScriptedPerson, ID)
        assert scripted is not None
        assert scripted.scenario == name
    EXPECTED[name](sessions)


def test_an_unknown_scenario_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'on-holiday'"):
        scenarios.named(ID, NAME, "on-holiday")


# ---- CSV -----------------------------------------------------------------------------------


def _with_x() -> str:
    """A valid ID number whose check character is X (none of the factories' people)."""
    for serial in range(100, 250):
        number = fixed_id_number(f.BORN, serial, region=f.REGION)
        if number.endswith("X"):
            return number
    raise AssertionError("no ID number with check character X")


def test_a_good_csv_applies_every_row(sessions: sessionmaker[Session]) -> None:
    frozen, absent, arrears = f.id_number(2), f.id_number(3), _with_x()
    text = (
        "id_number,name,scenario\n"
        f"{frozen},张三,frozen-fund\n"
        f" {absent} , 李四 ,no-household\n"
        f"{arrears.lower()},王五,arrears\n"
    )
    rows = scenarios.parse_csv(text)
    assert [(number, row.name, row.scenario) for number, row in rows] == [
        (frozen, "张三", "frozen-fund"),
        (absent, "李四", "no-household"),
        (arrears, "王五", "arrears"),
    ]
    assert scenarios.apply_all(sessions, rows) == 3

    fund = d.DatabaseProvidentFund(sessions)
    assert fund.account(_query(frozen)).status == FundAccountStatus.FROZEN
    household = d.DatabaseHouseholdRegistry(sessions).verify(_check(absent, "李四"))
    assert (household.matches, household.detail) == (False, d.HOUSEHOLD_NOT_FOUND)
    status = d.DatabaseSocialInsurance(sessions).contribution_status(_query(arrears))
    assert [p.kind for p in status.problems] == [ContributionProblemKind.ARREARS]


GOOD_ROW = "{number},张三,normal\n"
BAD_FILES = {
    "bad ID number": ("id_number,name,scenario\n" + GOOD_ROW + "220102196605150013,李四,normal\n"),
    "unknown scenario": ("id_number,name,scenario\n" + GOOD_ROW + "{other},李四,on-holiday\n"),
    "empty name": ("id_number,name,scenario\n" + GOOD_ROW + "{other}, ,normal\n"),
    "short row": ("id_number,name,scenario\n" + GOOD_ROW + "{other},李四\n"),
}
MISSING_COLUMN = "id_number,name\n{number},张三\n"


def _bad(kind: str, number: str, other: str) -> str:
    return BAD_FILES[kind].format(number=number, other=other)


def test_the_bad_id_number_of_the_files_is_bad() -> None:
    number = "220102196605150013"
    assert check_character(number[:17]) != number[-1]


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_row_is_named_by_its_line(kind: str) -> None:
    with pytest.raises(scenarios.CsvError, match=r"^line 3: "):
        scenarios.parse_csv(_bad(kind, f.id_number(2), f.id_number(3)))


def test_a_missing_column_is_named() -> None:
    with pytest.raises(scenarios.CsvError, match="the header lacks scenario"):
        scenarios.parse_csv(MISSING_COLUMN.format(number=f.id_number(2)))


# ---- the admin API -------------------------------------------------------------------------


@pytest.fixture
def admin(departments: DepartmentSimulator) -> Iterator[httpx.Client]:
    """The admin API with no token: each test adds the header it means to send."""
    with httpx.Client(base_url=f"{departments.url}/admin", timeout=30) as client:
        yield client
    departments.clear_faults()


def _bearer(departments: DepartmentSimulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {departments.admin_token}"}


def _fund_status(platform: Platform, number: str) -> FundAccountStatus | None:
    return platform.provident_fund.account(_query(number)).status


@pytest.mark.parametrize("kind", [*BAD_FILES, "missing column"])
def test_a_bad_csv_over_the_admin_api_is_400_and_changes_nothing(
    departments: DepartmentSimulator, platform: Platform, admin: httpx.Client, kind: str
) -> None:
    number, other = new_simulator_id_number(), new_simulator_id_number()
    departments.put_person(number, scenarios.named(number, "张三", "frozen-fund"))
    text = (
        MISSING_COLUMN.format(number=number)
        if kind == "missing column"
        else _bad(kind, number, other)
    )
    response = admin.post(
        "/scenarios",
        content=text.encode(),
        headers={**_bearer(departments), "Content-Type": "text/csv"},
    )
    assert response.status_code == 400, response.text
    assert ("header" if kind == "missing column" else "line 3") in response.json()["detail"]
    # The good row before the bad one was not applied: the account is still frozen.
    assert _fund_status(platform, number) == FundAccountStatus.FROZEN


def test_a_good_csv_over_the_admin_api_is_applied(
    departments: DepartmentSimulator, platform: Platform
) -> None:
    frozen, absent = new_simulator_id_number(), new_simulator_id_number()
    applied = departments.load_csv(
        f"\ufeffid_number,name,scenario\n{frozen},张三,frozen-fund\n{absent},李四,no-household\n"
    )
    assert applied == 2
    assert _fund_status(platform, frozen) == FundAccountStatus.FROZEN
    household = platform.household.verify(_check(absent, "李四"))
    assert (household.matches, household.detail) == (False, d.HOUSEHOLD_NOT_FOUND)


def test_a_person_with_a_bad_id_number_is_400(
    departments: DepartmentSimulator, admin: httpx.Client
) -> None:
    scenario = scenarios.named(f.id_number(1), "张三", "normal")
    response = admin.put(
        "/people/220102196605150013",
        content=scenario.model_dump_json(),
        headers={**_bearer(departments), "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_the_admin_api_lists_the_scenarios(
    departments: DepartmentSimulator, admin: httpx.Client
) -> None:
    response = admin.get("/scenarios", headers=_bearer(departments))
    assert response.status_code == 200
    assert response.json() == {"scenarios": list(scenarios.SCENARIOS)}


ADMIN_CALLS = [
    ("PUT", "/people/{number}", "application/json"),
    ("POST", "/scenarios", "text/csv"),
    ("GET", "/scenarios", None),
    ("PUT", "/faults", "application/json"),
    ("DELETE", "/faults", None),
]


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-the-token", "Basic {token}"], ids=["none", "wrong", "basic"]
)
@pytest.mark.parametrize(("method", "path", "content_type"), ADMIN_CALLS)
def test_the_admin_api_wants_its_bearer_token(
    departments: DepartmentSimulator,
    platform: Platform,
    admin: httpx.Client,
    method: str,
    path: str,
    content_type: str | None,
    authorization: str | None,
) -> None:
    number = new_simulator_id_number()
    bodies = {
        "application/json": (
            scenarios.named(number, "张三", "frozen-fund").model_dump_json()
            if path.startswith("/people")
            # A fault that would be seen: the next provident fund request would fail.
            else '{"system": "provident-fund", "mode": "down"}'
        ),
        "text/csv": f"id_number,name,scenario\n{number},张三,frozen-fund\n",
    }
    headers = {"Content-Type": content_type} if content_type else {}
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=departments.admin_token)
    response = admin.request(
        method,
        path.format(number=number),
        content=bodies[content_type].encode() if content_type else None,
        headers=headers,
    )
    assert response.status_code == 401, response.text
    # Nothing was done: the person was not scripted, and no fault is in play.
    assert _fund_status(platform, number) == FundAccountStatus.ACTIVE


def test_the_faults_api_works_with_the_token(
    departments: DepartmentSimulator, platform: Platform, admin: httpx.Client
) -> None:
    """The same calls as above, with the token, are seen (so the test above can fail)."""
    number = new_simulator_id_number()
    response = admin.put(
        "/faults",
        content=b'{"system": "provident-fund", "mode": "down", "count": 1}',
        headers={**_bearer(departments), "Content-Type": "application/json"},
    )
    assert response.status_code == 204
    with pytest.raises(DepartmentUnavailable, match="503"):
        _fund_status(platform, number)
    assert _fund_status(platform, number) == FundAccountStatus.ACTIVE
