from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.policy import Policy, PolicyError, parse_policy
from policies import DEFAULT_POLICY_FILE, load_policy


def test_bundled_policy_marks_every_unverified_figure(policy: Policy) -> None:
    where = {w for w, _ in policy.unverified()}
    # Every figure rules.md marks unverified, and the operating defaults, are listed.
    assert {
        "early.special_jobs",
        "early.illness",
        "pension.divisor.months_by_age.47",
        "pension.wage_bases[0]",
        "pension.transitional",  # the 1.2% coefficient's source is not confirmed
        "medical",
        "one_child_reward",
        "reminders",
        "clerk_sla",
    } <= where
    # The law's own figures are verified.
    assert not where & {"statutory_age", "min_contribution", "flexible", "timeline"}


def _edited(old: str, new: str) -> str:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("step_months = 4", "step_months = 0", "step_months"),
        (
            "[statutory_age.categories.female-worker]",
            "[statutory_age.categories.other]",
            "categories",
        ),
        ('end = "2026-06"', 'end = "2025-06"', "ends before it starts"),
        ("declaration_months_before = 6", "declaration_months_before = 1", "timeline"),
        ("pre-review = 10", "", "clerk_sla"),
        ("rate = 0.012", 'rate = "abc"', "rate"),
        ("[medical.thresholds.default]", "[medical.thresholds.2201]", "default"),
        ("basic_rate = 0.01", "basic_rate = 0.01\nsurprise = 1", "surprise"),
        ("max_years = 20", "max_years = 10", "below base_years"),
        # 95,740 a year is 7,978.33 a month, not the 7,978.25 stated: one of them is mistyped.
        ("changchun = 95739", "changchun = 95740", "7978.33 a month"),
        ("state-farm = 26681", "shanghai = 26681", "no monthly figure"),
        (
            "age_female = 45\n\n# By the year",
            "age_female = 45\nmin_contribution_years = 15\n\n# By the year",
            "not both",
        ),
    ],
)
def test_a_wrong_policy_is_refused_with_where(old: str, new: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(_edited(old, new), "edited.toml")


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not valid TOML"):
        parse_policy("= nope")
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "missing.toml")


def test_environment_selects_another_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "jilin-next.toml"
    copy.write_text(_edited('version = "2025.2"', 'version = "2026.1"'), encoding="utf-8")
    monkeypatch.setenv("RETIREMENT_POLICY_FILE", str(copy))
    assert load_policy().meta.version == "2026.1"


def test_wage_bases_and_citations_of_2025(policy: Policy) -> None:
    # 吉人社联〔2025〕97号: Changchun 95,739 a year, the province 87,865, state farms 26,681.
    (base,) = policy.pension.wage_bases
    assert "吉人社联〔2025〕97号" in base.source
    assert (str(base.start), str(base.end)) == ("2025-07", "2026-06")
    assert base.areas == {
        "province": Decimal("7322.08"),
        "changchun": Decimal("7978.25"),
        "state-farm": Decimal("2223.42"),
    }
    assert base.annual_areas == {
        "province": Decimal(87865),
        "changchun": Decimal(95739),
        "state-farm": Decimal(26681),
    }
    special = policy.early.special_jobs
    assert "国务院关于渐进式延迟法定退休年龄的办法" in special.source
    assert "art. 8" in special.source
    assert not special.verified  # the ages themselves are still unverified
    assert not policy.pension.transitional.verified
    assert policy.pension.transitional.rate == Decimal("0.012")


@pytest.mark.parametrize(
    ("year", "years"),
    [(2029, "15"), (2030, "15.5"), (2035, "18"), (2039, "20"), (2040, "20")],
)
def test_illness_contribution_years_follow_the_national_schedule(
    policy: Policy, year: int, years: str
) -> None:
    assert policy.early.illness.min_contribution_years(year) == Decimal(years)
    # The same schedule as the national minimum, by construction of the bundled file.
    assert policy.min_contribution.years_for(year) == Decimal(years)


def _before_2025_2(policy: Policy) -> dict[str, Any]:
    """The policy as a case started before version 2025.2 carries it in its history (JSON, the
    data converter's form): one fixed illness figure, no annual wage figures."""
    data = policy.model_dump(mode="json")
    illness = data["early"]["illness"]
    del illness["min_contribution"]
    illness["min_contribution_years"] = "15"
    for base in data["pension"]["wage_bases"]:
        del base["annual_areas"]
    return data


def test_a_policy_from_before_2025_2_still_loads_and_keeps_its_fixed_figure(
    policy: Policy,
) -> None:
    # Running cases replay with the policy in their history: it must validate, and a fixed 15
    # must stay 15 in every year (what those cases were decided with), not follow the schedule.
    old = Policy.model_validate(_before_2025_2(policy))
    assert [old.early.illness.min_contribution_years(y) for y in (2029, 2030, 2039)] == [15] * 3
    assert old.pension.wage_bases[0].annual_areas == {}
    # The same in TOML: an administrator's copy of the old file.
    schedule = (
        "\n# By the year of the early retirement, the same schedule as [min_contribution].\n"
        "[early.illness.min_contribution]\nbase_years = 15\nrise_from_year = 2030\n"
        "rise_per_year = 0.5\nmax_years = 20\n"
    )
    copy = parse_policy(_edited(schedule, "min_contribution_years = 15\n"))
    assert copy.early.illness.min_contribution_years(2035) == 15
