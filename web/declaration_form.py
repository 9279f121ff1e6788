"""The employer's declaration form (申报): reading what was typed into a ``DeclareBody``, every
mistake named next to its field in the catalogue's words, and the retirement rules' refusals
placed beside the field they concern. Nothing is declared until the form is whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from api.schemas import DeclareBody
from contracts.declarations import Declaration
from contracts.plans import plan_for
from domain.idcard import InvalidIdNumber, parse_id_number
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category, Policy, SpecialJobKind
from domain.timeline import CHINA_TZ
from notifications.contacts import normalise_mobile
from web.messages import messages

FIELDS = (
    "name", "id_number", "category", "region_code", "mobile", "path", "contribution_years",
    "deemed_years", "requested_month", "appraisal", "special_kind", "special_years",
    "notice_month", "employer_agreed", "one_child", "child_birth_date", "further_children",
)  # fmt: skip
SPECIAL_ROWS = 3
EARLY_OR_FLEXIBLE = {p.value for p in RetirementPath} - {RetirementPath.NORMAL.value}


@dataclass
class DeclarationForm:
    """What was typed (kept, to show again) and what is wrong with it (field → catalogue key)."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    body: DeclareBody | None = None  # a new declaration, whole
    declaration: Declaration | None = None  # a resubmission's declaration, whole

    def refuse(self, name: str, key: str) -> None:
        self.errors.setdefault(name, key)


def empty_form() -> DeclarationForm:
    return DeclarationForm(
        {
            **dict.fromkeys(FIELDS, ""),
            "path": "normal",
            "deemed_years": "0",
            "special": [{"kind": "", "years": ""} for _ in range(SPECIAL_ROWS)],
        }
    )


def _values(raw: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {name: raw.get(name, "").strip() for name in FIELDS}
    values["special"] = [
        {"kind": raw.get(f"special_kind_{n}", ""), "years": raw.get(f"special_years_{n}", "")}
        for n in range(1, SPECIAL_ROWS + 1)
    ]
    return values


def read_form(raw: dict[str, str], policy: Policy) -> DeclarationForm:
    """A new declaration as submitted: the person and the declaration; its body when whole."""
    form = DeclarationForm(_values(raw))
    v = form.values
    if not v["name"]:
        form.refuse("name", "declare.error_name")
    elif len(v["name"]) > 50:
        form.refuse("name", "declare.error_name_long")
    birth: YearMonth | None = None
    try:
        parsed = parse_id_number(v["id_number"], datetime.now(CHINA_TZ).date())
        v["id_number"] = parsed.number
        birth = YearMonth.of(parsed.birth_date)
    except InvalidIdNumber as exc:
        form.refuse("id_number", f"declare.error_id_{exc.code}")
    if v["category"] not in {c.value for c in Category}:
        form.refuse("category", "declare.error_category")
    if not (len(v["region_code"]) == 6 and v["region_code"].isdigit()):
        form.refuse("region_code", "declare.error_region")
    if v["mobile"]:
        try:
            v["mobile"] = normalise_mobile(v["mobile"])
        except ValueError:
            form.refuse("mobile", "declare.error_mobile")
    declaration = _declaration(form)
    if form.errors:
        return form
    try:
        form.body = DeclareBody.model_validate(
            {
                "person": {
                    "id_number": v["id_number"],
                    "name": v["name"],
                    "category": v["category"],
                    "region_code": v["region_code"],
                    "mobile": v["mobile"] or None,
                },
                "declaration": declaration,
            }
        )
    except ValidationError:
        form.refuse("form", "declare.error_form")
        return form
    assert birth is not None  # noqa: S101 - parsed above, or the form had an error
    _check_rules(form, birth, Category(v["category"]), form.body.declaration, policy)
    if form.errors:
        form.body = None
    return form


def read_resubmission(
    raw: dict[str, str], policy: Policy, birth: YearMonth, category: Category
) -> DeclarationForm:
    """A corrected declaration for a returned case: the person is the case's, so only the
    declaration is read; ``form.declaration`` when whole."""
    form = DeclarationForm(_values(raw))
    declaration = _declaration(form)
    if form.errors:
        return form
    try:
        checked = Declaration.model_validate(declaration)
    except ValidationError:
        form.refuse("form", "declare.error_form")
        return form
    _check_rules(form, birth, category, checked, policy)
    if not form.errors:
        form.declaration = checked
    return form


def _declaration(form: DeclarationForm) -> dict[str, Any]:
    """The declaration's part of the form, each field checked."""
    v = form.values
    if v["path"] not in {p.value for p in RetirementPath}:
        form.refuse("path", "declare.error_path")
    years = _decimal(form, "contribution_years", required=True)
    deemed = _decimal(form, "deemed_years", required=False)
    declaration: dict[str, Any] = {
        "path": v["path"],
        "contribution_years": str(years) if years is not None else "0",
        "deemed_years": str(deemed or 0),
    }
    if v["path"] in EARLY_OR_FLEXIBLE:
        month = _month(form, "requested_month", required=True)
        declaration["requested_month"] = str(month) if month else None
    if v["path"] == RetirementPath.ILLNESS:
        if v["appraisal"] not in ("complete-loss", "partial-loss", "none"):
            form.refuse("appraisal", "declare.error_appraisal")
        declaration["appraisal"] = v["appraisal"] or None
    if v["path"] == RetirementPath.SPECIAL_JOB:
        declaration["special_jobs"] = _special_jobs(form)
    if v["path"] in ("flexible-early", "flexible-delay"):
        notice = _month(form, "notice_month", required=True)
        declaration["flexible"] = {
            "notice_month": str(notice) if notice else None,
            "employer_agreed": v["employer_agreed"] == "true",
        }
    if v["one_child"] == "true":
        born = _date(form, "child_birth_date")
        declaration["one_child"] = {
            "holds_certificate": True,
            "child_birth_date": born.isoformat() if born else None,
            "further_children": v["further_children"] == "true",
        }
    return declaration


def _check_rules(
    form: DeclarationForm,
    birth: YearMonth,
    category: Category,
    declaration: Declaration,
    policy: Policy,
) -> None:
    """The retirement rules' refusals, each beside the field it concerns."""
    plan = plan_for(birth, category, declaration, policy)
    for refusal in plan.refusals:
        name, key = rule_message(refusal.rule)
        form.refuse(name, key)


def rule_message(code: str) -> tuple[str, str]:
    """The field a refusal of the retirement rules concerns, and the catalogue's words for it."""
    catalogue = messages().known_keys()
    if f"rule.{code}" in catalogue:
        key = f"rule.{code}"
    elif code.endswith(".not-earlier"):
        key = "rule.not-earlier"
    elif code.endswith(".direction"):
        key = "rule.direction"
    elif code.startswith("early.") and code.endswith(".month"):
        key = "rule.early-month"
    elif code.endswith(".month"):
        key = "rule.month-needed"
    else:
        key = "rule.other"
    place = {
        "early.illness.appraisal": "appraisal",
        "early.illness.contribution": "contribution_years",
        "flexible.early.min-contribution": "contribution_years",
        "flexible.early.notice": "notice_month",
        "flexible.delay.confirmation": "notice_month",
        "flexible.delay.agreement": "employer_agreed",
    }
    if code in place:
        return place[code], key
    if code.startswith("early.special-job") and not code.endswith(".month"):
        return "special_jobs", key
    if code.startswith("one-child"):
        return "one_child", key
    return "requested_month", key


def _decimal(form: DeclarationForm, name: str, *, required: bool) -> Decimal | None:
    text = form.values[name]
    if not text:
        if required:
            form.refuse(name, "declare.error_years")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        form.refuse(name, "declare.error_years")
        return None
    if not (0 <= value <= 80) or value.as_tuple().exponent < -2:  # type: ignore[operator]
        form.refuse(name, "declare.error_years")
        return None
    return value


def _month(form: DeclarationForm, name: str, *, required: bool) -> YearMonth | None:
    text = form.values[name]
    if not text:
        if required:
            form.refuse(name, "declare.error_month")
        return None
    try:
        month = YearMonth.parse(text)
    except ValueError:
        form.refuse(name, "declare.error_month")
        return None
    if not 1950 <= month.year <= 2100:
        form.refuse(name, "declare.error_month")
        return None
    return month


def _date(form: DeclarationForm, name: str) -> date | None:
    try:
        return date.fromisoformat(form.values[name])
    except ValueError:
        form.refuse(name, "declare.error_date")
        return None


def _special_jobs(form: DeclarationForm) -> list[dict[str, str]]:
    jobs = []
    for row in form.values["special"]:
        if not row["kind"] and not row["years"]:
            continue
        try:
            years = Decimal(row["years"])
        except InvalidOperation:
            years = Decimal(0)
        if row["kind"] not in {k.value for k in SpecialJobKind} or not 0 < years <= 50:
            form.refuse("special_jobs", "declare.error_special_job")
            continue
        jobs.append({"kind": row["kind"], "years": str(years)})
    if not jobs:
        form.refuse("special_jobs", "declare.error_special_job")
    return jobs
