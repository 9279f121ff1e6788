from decimal import Decimal

from domain.flexible import FlexibleKind, flexible_bounds, flexible_retirement
from domain.months import YearMonth
from domain.policy import Category, Policy
from domain.statutory import statutory_retirement

M = YearMonth.parse


def rules_broken(outcome: object) -> set[str]:
    return {r.rule for r in outcome.refusals}  # type: ignore[attr-defined]


def test_bounds_never_go_below_the_original_age(policy: Policy) -> None:
    # A man born 1970-01: original 2030-01, the 61st month of the reform, so delayed
    # floor(60 / 4) + 1 = 16 months -> 2031-05; 36 months early would be
    # before his original month, so the original month is the floor.
    man = statutory_retirement(M("1970-01"), Category.MALE, policy)
    assert man.retirement_month == M("2031-05")
    assert flexible_bounds(man, policy) == (M("2030-01"), M("2034-05"))
    # A woman worker born 1984-11 is delayed 60 months: 36 months early stays above age 50.
    worker = statutory_retirement(M("1984-11"), Category.FEMALE_WORKER, policy)
    assert flexible_bounds(worker, policy) == (M("2036-11"), M("2042-11"))


def test_early_accepted(policy: Policy) -> None:
    man = statutory_retirement(M("1970-01"), Category.MALE, policy)
    outcome = flexible_retirement(
        man, M("2030-06"), notice_month=M("2030-03"), contribution_years=Decimal(30),
        employer_agreed=False, policy=policy,
    )  # fmt: skip
    assert outcome.accepted
    assert (outcome.kind, outcome.retirement_month) == (FlexibleKind.EARLY, M("2030-06"))


def test_early_refusals_are_all_reported(policy: Policy) -> None:
    man = statutory_retirement(M("1970-01"), Category.MALE, policy)
    outcome = flexible_retirement(
        man, M("2029-12"), notice_month=M("2029-10"), contribution_years=Decimal(14),
        employer_agreed=True, policy=policy,
    )  # fmt: skip
    assert not outcome.accepted
    assert rules_broken(outcome) == {
        "flexible.early.too-early",
        "flexible.early.min-contribution",
        "flexible.early.notice",
    }
    assert outcome.retirement_month == man.retirement_month


def test_early_minimum_years_are_those_of_the_requested_year(policy: Policy) -> None:
    man = statutory_retirement(M("1970-01"), Category.MALE, policy)
    outcome = flexible_retirement(
        man, M("2030-06"), notice_month=M("2030-01"), contribution_years=Decimal("15.4"),
        employer_agreed=False, policy=policy,
    )  # fmt: skip
    assert rules_broken(outcome) == {"flexible.early.min-contribution"}
    assert "15.5" in outcome.refusals[0].reason


def test_delay_rules(policy: Policy) -> None:
    man = statutory_retirement(M("1970-01"), Category.MALE, policy)  # statutory 2031-05
    ok = flexible_retirement(
        man, M("2034-05"), notice_month=M("2031-04"), contribution_years=Decimal(30),
        employer_agreed=True, policy=policy,
    )  # fmt: skip
    assert ok.accepted and ok.kind is FlexibleKind.DELAY
    refused = flexible_retirement(
        man, M("2034-06"), notice_month=M("2031-05"), contribution_years=Decimal(30),
        employer_agreed=False, agreed_delay_month=M("2033-01"), policy=policy,
    )  # fmt: skip
    assert rules_broken(refused) == {
        "flexible.delay.too-late",
        "flexible.delay.agreement",
        "flexible.delay.confirmation",
        "flexible.delay.extension",
    }


def test_a_set_delay_may_end_early(policy: Policy) -> None:
    man = statutory_retirement(M("1970-01"), Category.MALE, policy)
    shorter = flexible_retirement(
        man, M("2032-06"), notice_month=M("2031-01"), contribution_years=Decimal(30),
        employer_agreed=True, agreed_delay_month=M("2033-01"), policy=policy,
    )  # fmt: skip
    assert shorter.accepted


def test_statutory_month_is_no_flexible_choice(policy: Policy) -> None:
    man = statutory_retirement(M("1970-01"), Category.MALE, policy)
    same = flexible_retirement(
        man, man.retirement_month, notice_month=M("2031-05"), contribution_years=Decimal(0),
        employer_agreed=False, policy=policy,
    )  # fmt: skip
    assert same.accepted and same.kind is FlexibleKind.STATUTORY
