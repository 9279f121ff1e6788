"""The one-child parents' reward (item 8): whom it concerns and what to show them.

The joint service shows the policy, channel and procedure; the reward itself is paid elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.policy import Policy
from domain.refusal import Refusal


@dataclass(frozen=True, slots=True)
class OneChildRewardNotice:
    concerns: bool
    refusals: tuple[Refusal, ...]
    policy_text: str
    channel: str
    procedure: tuple[str, ...]
    amount_yuan: Decimal | None


def one_child_reward_notice(
    *,
    holds_certificate: bool,
    child_birth_date: date | None,
    further_children: bool,
    registered_in_province: bool,
    policy: Policy,
) -> OneChildRewardNotice:
    rule = policy.one_child_reward
    refusals: list[Refusal] = []
    if not holds_certificate:
        refusals.append(Refusal("one-child.certificate", "no one-child parents' certificate"))
    if child_birth_date is None or child_birth_date > rule.child_born_on_or_before:
        refusals.append(
            Refusal(
                "one-child.birth",
                f"the only child must be born on or before {rule.child_born_on_or_before}",
            )
        )
    if further_children:
        refusals.append(Refusal("one-child.further", "further children were born"))
    if not registered_in_province:
        refusals.append(
            Refusal("one-child.registration", "neither spouse is registered in the province")
        )
    return OneChildRewardNotice(
        concerns=not refusals,
        refusals=tuple(refusals),
        policy_text=rule.policy_text,
        channel=rule.channel,
        procedure=tuple(rule.procedure),
        amount_yuan=rule.one_off_amount_yuan,
    )
