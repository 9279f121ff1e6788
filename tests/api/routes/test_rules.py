"""``api/routes/rules.py``: the retirement date, the timeline and the pension estimate, for
anyone (no token)."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.support import NORMAL_OPENS, NORMAL_T, assert_problem


async def test_retirement_date_for_several_birth_months(api: Api) -> None:
    response = await api.http.get(
        "/rules/retirement-date",
        params=[("category", "male"), ("birth_month", "1967-01"), ("birth_month", "1966-01")],
    )
    assert response.status_code == 200, response.text
    answers = response.json()
    assert [(a["birth_month"], a["retirement_month"]) for a in answers] == [
        ("1967-01", "2027-08"),
        ("1966-01", "2026-05"),
    ]
    assert answers[0] == {
        "birth_month": "1967-01",
        "category": "male",
        "original_retirement_month": "2027-01",
        "retirement_month": "2027-08",
        "retirement_age_years": 60,
        "retirement_age_months": 7,
        "delay_months": 7,
        "min_contribution_years": 15,
    }
    for params in (
        {"category": "male"},
        {"category": "male", "birth_month": "1967-13"},
        {"category": "male", "birth_month": "1899-12"},
        {"category": "nobody", "birth_month": "1967-01"},
    ):
        assert_problem(await api.http.get("/rules/retirement-date", params=params), 422)


async def test_timeline_from_either_month(api: Api) -> None:
    by_t = await api.http.get("/rules/timeline", params={"retirement_month": NORMAL_T})
    assert by_t.status_code == 200, by_t.text
    timeline = by_t.json()
    assert {k: timeline[k] for k in ("declaration_due", "contribution_check_due")} == {
        "declaration_due": "2027-02-28",
        "contribution_check_due": "2027-06-30",
    }
    assert (timeline["initiation_opens"], timeline["initiation_due"]) == (
        NORMAL_OPENS,
        "2027-07-31",
    )
    assert timeline["first_pension_month"] == "2027-09"
    assert timeline["reminders"]
    by_birth = await api.http.get(
        "/rules/timeline", params={"birth_month": "1967-01", "category": "male"}
    )
    assert by_birth.json() == timeline
    for params in (
        {},
        {"retirement_month": NORMAL_T, "birth_month": "1967-01", "category": "male"},
        {"birth_month": "1967-01"},
        {"retirement_month": NORMAL_T, "category": "male"},
        {"retirement_month": "2027-8"},
    ):
        assert_problem(await api.http.get("/rules/timeline", params=params), 422)


async def test_pension_estimate_worked_example(api: Api) -> None:
    body = {
        "birth_month": "1966-01",
        "category": "male",
        "contribution_index": 1.2,
        "actual_years": 30,
        "deemed_years": 5,
        "account_balance": 150000,
    }
    response = await api.http.post("/rules/pension-estimate", json=body)
    assert response.status_code == 200, response.text
    estimate = response.json()
    assert (
        estimate["basic"],
        estimate["personal_account"],
        estimate["transitional"],
        estimate["total"],
    ) == (2819, 1079.14, 527.19, 4425.33)
    assert estimate["retirement_month"] == "2026-05"
    assert (estimate["age_years"], estimate["age_months"]) == (60, 4)
    assert estimate["contribution_years"] == 35

    for change in (
        {"contribution_index": 0},
        {"account_balance": -1},
        {"birth_month": "1966-1"},
        {"unknown": 1},
    ):
        assert_problem(await api.http.post("/rules/pension-estimate", json={**body, **change}), 422)
    wrong_area = await api.http.post(
        "/rules/pension-estimate", json={**body, "wage_area": "atlantis"}
    )
    assert_problem(wrong_area, 422, slug="pension-input", detail="atlantis")
    too_young = await api.http.post(
        "/rules/pension-estimate", json={**body, "retirement_month": "1990-01"}
    )
    assert_problem(too_young, 422, slug="pension-input")


async def test_an_id_number_checked_as_it_is_typed(api: Api) -> None:
    good = await api.http.post("/rules/id-number", json={"id_number": "11010519491231002x"})
    assert good.status_code == 200, good.text
    assert good.json() == {
        "id_masked": "1101**********002X",
        "birth_date": "1949-12-31",
        "gender": "female",
        "region_code": "110105",
    }
    for number, reason in (
        ("1101051949", "length"),
        ("11010519491231002Y", "characters"),
        ("99010519491231002X", "region"),
        ("110105194913310021", "birth-date"),
        ("110105194912310021", "check-character"),
    ):
        refused = await api.http.post("/rules/id-number", json={"id_number": number})
        assert_problem(refused, 422, slug="invalid-id-number")
        assert refused.json()["reason"] == reason, number
        assert number not in refused.text  # the number is not echoed back
    assert_problem(await api.http.post("/rules/id-number", json={}), 422)
