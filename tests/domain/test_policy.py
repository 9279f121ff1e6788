from pathlib import Path

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
    copy.write_text(_edited('version = "2025.1"', 'version = "2026.1"'), encoding="utf-8")
    monkeypatch.setenv("RETIREMENT_POLICY_FILE", str(copy))
    assert load_policy().meta.version == "2026.1"
