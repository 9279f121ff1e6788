"""In-memory department systems for workflow tests: every Protocol of ``activities``, with the
same idempotency rule as the database ones, plus switches for outages and refusals."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from activities.errors import DepartmentRefusal
from contracts.departments import (
    ApprovalCommand,
    FundAccount,
    FundAccountStatus,
    FundReceipt,
    FundWithdrawal,
    HouseholdCheck,
    HouseholdResult,
    MedicalRecord,
    MedicalSwitch,
    Notification,
    PensionAward,
    PersonQuery,
    PrereviewPush,
    Receipt,
    RetireeSwitch,
    RewardNoticeRecord,
    SettleCommand,
)
from contracts.people import Department
from contracts.read_model import AuditEntry, Projection
from contracts.workflow import ContributionProblem, ContributionStatus
from notifications.templates import templates
from worker import DepartmentSystems


@dataclass
class Contributions:
    index: Decimal = Decimal("1.0")
    actual_years: Decimal = Decimal(30)
    deemed_years: Decimal = Decimal(5)
    balance: Decimal = Decimal(139000)
    problems: list[ContributionProblem] = field(default_factory=list)
    settled: set[str] = field(default_factory=set)


@dataclass
class Fund:
    balance: Decimal = Decimal("52000.00")
    status: FundAccountStatus = FundAccountStatus.ACTIVE


class FakeDepartments:
    """One object that is every department system."""

    def __init__(self) -> None:
        self.households: dict[str, tuple[str, str]] = {}
        self.contributions: dict[str, Contributions] = {}
        self.medical: dict[str, MedicalRecord] = {}
        self.funds: dict[str, Fund] = {}
        self.effects: dict[str, dict[str, object]] = {}
        self.calls: Counter[str] = Counter()
        self.outages: Counter[str] = Counter()
        # A method named here refuses (a business refusal, final) with this department and
        # reason until the entry is removed: a department's own problem a clerk must resolve.
        self.refusals: dict[str, tuple[Department, str]] = {}
        # A method named here waits until its event is set (at most 30 s): a department step
        # still running while the rest of the case moves on.
        self.holds: dict[str, threading.Event] = {}
        self.notifications: list[Notification] = []
        self.template_errors: list[str] = []  # messages whose template would not render
        self.prereviews: list[PrereviewPush] = []  # what social insurance received
        self.projections: dict[str, Projection] = {}
        # Each projection carries only the audit entries new since the previous one: keep them
        # all, keyed by id (re-projecting an entry is a no-op, as in the database).
        self.audit: dict[str, AuditEntry] = {}
        self._lock = threading.Lock()

    def systems(self) -> DepartmentSystems:
        return DepartmentSystems(
            household=self,
            hr=self,
            social_insurance=self,
            medical=self,
            provident_fund=self,
            health=self,
            notifier=self,
            read_model=self,
        )

    def add_person(
        self,
        id_number: str,
        name: str,
        *,
        problems: list[ContributionProblem] | None = None,
        fund: Fund | None = None,
        medical: MedicalRecord | None = None,
        household: str = "registered",
    ) -> None:
        self.households[id_number] = (name, household)
        self.contributions[id_number] = Contributions(problems=list(problems or []))
        self.medical[id_number] = medical or MedicalRecord(
            actual_years=Decimal(22), deemed_years=Decimal(5)
        )
        if fund is not None:
            self.funds[id_number] = fund

    def count(self, kind: str) -> int:
        return len(self.effects.get(kind, {}))

    # -- plumbing ------------------------------------------------------------------------

    def _enter(self, method: str) -> None:
        with self._lock:
            self.calls[method] += 1
        hold = self.holds.get(method)
        if hold is not None:
            hold.wait(timeout=30)
        with self._lock:
            if self.outages[method] > 0:
                self.outages[method] -= 1
                raise ConnectionError(f"{method}: department system unavailable")
            if method in self.refusals:
                department, reason = self.refusals[method]
                raise DepartmentRefusal(department, method, reason)

    def _once(self, kind: str, key: str, make: object) -> tuple[object, bool]:
        with self._lock:
            done = self.effects.setdefault(kind, {})
            if key in done:
                return done[key], True
            value = make() if callable(make) else make
            done[key] = value
            return value, False

    def _receipt(self, kind: str, key: str) -> Receipt:
        ref, duplicate = self._once(
            kind, key, lambda: f"{kind}-{len(self.effects.get(kind, {})) + 1}"
        )
        return Receipt(reference=str(ref), duplicate=duplicate)

    # -- the Protocols -----------------------------------------------------------------------

    def verify(self, check: HouseholdCheck) -> HouseholdResult:
        self._enter("verify")
        record = self.households.get(check.id_number)
        if record is None:
            return HouseholdResult(matches=False, detail="no household record")
        if record[0] != check.name:
            return HouseholdResult(matches=False, detail="the name differs from the registry")
        if record[1] != "registered":
            return HouseholdResult(matches=False, detail=f"registered as {record[1]}")
        return HouseholdResult(matches=True)

    def record_approval(self, command: ApprovalCommand) -> Receipt:
        self._enter("record_approval")
        return self._receipt("approval", command.idempotency_key)

    def receive_prereview(self, push: PrereviewPush) -> Receipt:
        self._enter("receive_prereview")
        receipt = self._receipt("prereview", push.idempotency_key)
        if not receipt.duplicate:
            with self._lock:
                self.prereviews.append(push)
        return receipt

    def contribution_status(self, query: PersonQuery) -> ContributionStatus:
        self._enter("contribution_status")
        record = self.contributions.get(query.id_number)
        if record is None:
            raise DepartmentRefusal(
                Department.SOCIAL_INSURANCE, "contribution-status", "no contribution record"
            )
        return ContributionStatus(
            status="active",
            problems=[p for p in record.problems if p.id not in record.settled],
            contribution_index=record.index,
            actual_years=record.actual_years,
            deemed_years=record.deemed_years,
            account_balance=record.balance,
        )

    def settle(self, command: SettleCommand) -> Receipt:
        self._enter("settle")
        self.contributions[command.id_number].settled.add(command.problem.id)
        return self._receipt("settlement", command.idempotency_key)

    def switch_to_retiree(self, command: RetireeSwitch) -> Receipt:
        self._enter("switch_to_retiree")
        return self._receipt("retiree-switch", command.idempotency_key)

    def award_pension(self, command: PensionAward) -> Receipt:
        self._enter("award_pension")
        return self._receipt("pension-award", command.idempotency_key)

    def medical_record(self, query: PersonQuery) -> MedicalRecord:
        self._enter("medical_record")
        return self.medical[query.id_number]

    def settle_status(self, command: MedicalSwitch) -> Receipt:
        self._enter("settle_status")
        return self._receipt(f"medical-{command.outcome}", command.idempotency_key)

    def account(self, query: PersonQuery) -> FundAccount:
        self._enter("account")
        fund = self.funds.get(query.id_number)
        if fund is None:
            return FundAccount(found=False)
        return FundAccount(found=True, balance=fund.balance, status=fund.status, card_last4="3445")

    def withdraw_and_close(self, command: FundWithdrawal) -> FundReceipt:
        self._enter("withdraw_and_close")
        fund = self.funds[command.id_number]
        if fund.status is FundAccountStatus.FROZEN:
            raise DepartmentRefusal(
                Department.PROVIDENT_FUND, "withdraw-and-close", "the account is frozen"
            )

        def pay() -> FundReceipt:
            amount, fund.balance = fund.balance, Decimal(0)
            fund.status = FundAccountStatus.CLOSED
            return FundReceipt(payout_id="FP-1", amount=amount, card_last4="3445")

        receipt, duplicate = self._once("fund-payout", command.idempotency_key, pay)
        assert isinstance(receipt, FundReceipt)
        return receipt.model_copy(update={"duplicate": duplicate})

    def record_reward_notice(self, command: RewardNoticeRecord) -> Receipt:
        self._enter("record_reward_notice")
        return self._receipt("reward-notice", command.idempotency_key)

    def record(self, notification: Notification) -> Receipt:
        self._enter("record")
        try:
            templates().render(notification.kind, notification.variables)
        except ValueError as exc:  # TemplateError, or a fact that is not a date or month
            with self._lock:
                self.template_errors.append(f"{notification.kind}: {exc}")
        receipt = self._receipt("notification", notification.idempotency_key)
        if not receipt.duplicate:
            with self._lock:
                self.notifications.append(notification)
        return receipt

    def project(self, projection: Projection) -> None:
        self._enter("project")
        with self._lock:
            for entry in projection.audit:
                self.audit.setdefault(entry.id, entry)
            old = self.projections.get(projection.case_id)
            if old is None or old.snapshot.version < projection.snapshot.version:
                self.projections[projection.case_id] = projection
