"""Every department system the case needs, over the data-sharing platform: each class implements
its activity's Protocol (``activities/``) with signed calls to that department's contract
(``contracts/openapi/{system}.json``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx

from adapters.platform import DEFAULT_TIMEOUT, Endpoint, PlatformClient
from contracts.departments import (
    ApprovalCommand,
    FundAccount,
    FundReceipt,
    FundWithdrawal,
    HouseholdCheck,
    HouseholdResult,
    MedicalRecord,
    MedicalSwitch,
    PensionAward,
    PersonQuery,
    PrereviewPush,
    PushMessage,
    Receipt,
    RetireeSwitch,
    RewardNoticeRecord,
    SettleCommand,
    SmsMessage,
)
from contracts.platform import Effect, EffectPage, Path, System
from contracts.workflow import ContributionStatus


class HttpHouseholdRegistry:
    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    def verify(self, check: HouseholdCheck) -> HouseholdResult:
        return self._client.post(Path.HOUSEHOLD_VERIFY, check, HouseholdResult)


class HttpHrSystem:
    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    def record_approval(self, command: ApprovalCommand) -> Receipt:
        return self._client.post(
            Path.RETIREMENT_APPROVALS, command, Receipt, idempotency_key=command.idempotency_key
        )


class HttpSocialInsurance:
    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    def receive_prereview(self, push: PrereviewPush) -> Receipt:
        return self._client.post(
            Path.PREREVIEW, push, Receipt, idempotency_key=push.idempotency_key
        )

    def contribution_status(self, query: PersonQuery) -> ContributionStatus:
        return self._client.post(Path.CONTRIBUTIONS_QUERY, query, ContributionStatus)

    def settle(self, command: SettleCommand) -> Receipt:
        return self._client.post(
            Path.SETTLEMENTS, command, Receipt, idempotency_key=command.idempotency_key
        )

    def switch_to_retiree(self, command: RetireeSwitch) -> Receipt:
        return self._client.post(
            Path.RETIREE_SWITCHES, command, Receipt, idempotency_key=command.idempotency_key
        )

    def award_pension(self, command: PensionAward) -> Receipt:
        return self._client.post(
            Path.PENSION_AWARDS, command, Receipt, idempotency_key=command.idempotency_key
        )


class HttpMedicalSystem:
    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    def medical_record(self, query: PersonQuery) -> MedicalRecord:
        return self._client.post(Path.MEDICAL_QUERY, query, MedicalRecord)

    def settle_status(self, command: MedicalSwitch) -> Receipt:
        return self._client.post(
            Path.MEDICAL_STATUS_CHANGES, command, Receipt, idempotency_key=command.idempotency_key
        )


class HttpProvidentFund:
    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    def account(self, query: PersonQuery) -> FundAccount:
        return self._client.post(Path.FUND_ACCOUNT_QUERY, query, FundAccount)

    def withdraw_and_close(self, command: FundWithdrawal) -> FundReceipt:
        return self._client.post(
            Path.FUND_WITHDRAWALS, command, FundReceipt, idempotency_key=command.idempotency_key
        )


class HttpHealthCommission:
    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    def record_reward_notice(self, command: RewardNoticeRecord) -> Receipt:
        return self._client.post(
            Path.REWARD_NOTICES, command, Receipt, idempotency_key=command.idempotency_key
        )


class HttpSms:
    """The province's SMS platform (政务短信平台)."""

    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    def send(self, message: SmsMessage) -> Receipt:
        return self._client.post(
            Path.SMS, message, Receipt, idempotency_key=message.idempotency_key
        )


class HttpAppPush:
    """The 吉事办 app's push service."""

    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    def push(self, message: PushMessage) -> Receipt:
        return self._client.post(
            Path.PUSH, message, Receipt, idempotency_key=message.idempotency_key
        )


@dataclass(frozen=True)
class Platform:
    """One client per system, made from their endpoints; close it when done."""

    clients: Mapping[System, PlatformClient]

    @classmethod
    def connect(
        cls,
        endpoints: Mapping[System, Endpoint],
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> Platform:
        return cls(
            {
                system: PlatformClient(
                    system, endpoints[system], timeout=timeout, transport=transport
                )
                for system in System
            }
        )

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def effects(self, *, case_id: str | None = None) -> Iterator[Effect]:
        """Every side effect the departments recorded (for one case), for reconciliation."""
        for client in self.clients.values():
            after: str | None = None
            while True:
                params = {"case_id": case_id, "after": after}
                found = client.get(
                    Path.EFFECTS, {k: v for k, v in params.items() if v is not None}, EffectPage
                )
                yield from found.effects
                if found.next_after is None:
                    break
                after = found.next_after

    @property
    def household(self) -> HttpHouseholdRegistry:
        return HttpHouseholdRegistry(self.clients[System.PUBLIC_SECURITY])

    @property
    def hr(self) -> HttpHrSystem:
        return HttpHrSystem(self.clients[System.HR])

    @property
    def social_insurance(self) -> HttpSocialInsurance:
        return HttpSocialInsurance(self.clients[System.SOCIAL_INSURANCE])

    @property
    def medical(self) -> HttpMedicalSystem:
        return HttpMedicalSystem(self.clients[System.MEDICAL_SECURITY])

    @property
    def provident_fund(self) -> HttpProvidentFund:
        return HttpProvidentFund(self.clients[System.PROVIDENT_FUND])

    @property
    def health(self) -> HttpHealthCommission:
        return HttpHealthCommission(self.clients[System.HEALTH_COMMISSION])

    @property
    def sms(self) -> HttpSms:
        return HttpSms(self.clients[System.SMS])

    @property
    def app_push(self) -> HttpAppPush:
        return HttpAppPush(self.clients[System.APP_PUSH])
