from datetime import date
from decimal import Decimal

from domain.medical import medical_retiree_check
from domain.one_child import one_child_reward_notice
from domain.policy import Gender, Policy


def test_medical_shortfall_counts_total_and_actual_years(policy: Policy) -> None:
    # default threshold (unverified placeholder): men 25 total, at least 10 actual.
    short_total = medical_retiree_check(Gender.MALE, Decimal(12), Decimal(8), "220100", policy)
    assert (short_total.total_years, short_total.shortfall_years) == (Decimal(20), Decimal(5))
    short_actual = medical_retiree_check(Gender.FEMALE, Decimal(6), Decimal(18), "x", policy)
    assert short_actual.shortfall_years == 4  # 20 total met, 10 actual not
    met = medical_retiree_check(Gender.FEMALE, Decimal(10), Decimal(10), "x", policy)
    assert met.meets_threshold and met.shortfall_years == 0
    # The thresholds are unverified, so a clerk must confirm every case.
    assert met.needs_clerk_confirmation
    assert met.threshold_region == "default"


def test_one_child_reward_concerns_only_eligible_parents(policy: Policy) -> None:
    notice = one_child_reward_notice(
        holds_certificate=True, child_birth_date=date(1990, 5, 1), further_children=False,
        registered_in_province=True, policy=policy,
    )  # fmt: skip
    assert notice.concerns and notice.procedure and notice.channel
    late = one_child_reward_notice(
        holds_certificate=False, child_birth_date=date(2016, 1, 1), further_children=True,
        registered_in_province=False, policy=policy,
    )  # fmt: skip
    assert {r.rule for r in late.refusals} == {
        "one-child.certificate",
        "one-child.birth",
        "one-child.further",
        "one-child.registration",
    }
