"""公积金 provident fund centre: seal the account, pay out the balance, close it."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from activities.errors import refusals_are_final
from contracts.departments import FundAccount, FundReceipt, FundWithdrawal, PersonQuery


class ProvidentFundSystem(Protocol):
    def account(self, query: PersonQuery) -> FundAccount: ...
    def withdraw_and_close(self, command: FundWithdrawal) -> FundReceipt: ...


class ProvidentFundActivities:
    def __init__(self, system: ProvidentFundSystem) -> None:
        self._system = system

    @activity.defn(name="provident_fund.account")
    @refusals_are_final
    def account(self, query: PersonQuery) -> FundAccount:
        return self._system.account(query)

    @activity.defn(name="provident_fund.withdraw_and_close")
    @refusals_are_final
    def withdraw_and_close(self, command: FundWithdrawal) -> FundReceipt:
        """One payout per idempotency key, however often a crash makes Temporal retry it."""
        return self._system.withdraw_and_close(command)
