"""``api/idempotency.py``: an Idempotency-Key is its caller's own, and one whose request died
half-way does not block the key for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from api.auth import Principal
from api.idempotency import ABANDONED_AFTER, _claim, fingerprint, once
from contracts.people import Role
from db.models import ApiRequestRow
from tests.api.conftest import Api
from tests.api.support import (
    declare_body,
    employer_headers,
    inbox_task,
    new_org,
    wait_stage,
)
from tests.support.people import new_id_number


async def test_two_callers_with_the_same_key_are_both_applied(api: Api) -> None:
    """An Idempotency-Key is the caller's own: another caller choosing the same key must not be
    answered with the first one's result while its own decision is dropped."""
    org = new_org()
    employer = employer_headers(api, org)
    id_number = new_id_number(1967, 1)
    api.departments.seed(id_number, "王建国")
    created = await api.http.post("/cases", json=declare_body(id_number), headers=employer)
    case_id = created.json()["case_id"]
    hr = {
        **api.as_(role="clerk", department="hr", region="220102", sub="hr-1"),
        "Idempotency-Key": "k1",
    }
    task = await inbox_task(api.http, hr, case_id, "pre-review")
    url = f"/cases/{case_id}/tasks/{task['task_id']}/decision"
    assert (await api.http.post(url, json={"outcome": "approve"}, headers=hr)).status_code == 200
    social = {
        **api.as_(role="clerk", department="social-insurance", region="220102", sub="si-1"),
        "Idempotency-Key": "k1",
    }
    confirm = await inbox_task(api.http, social, case_id, "confirm-contributions")
    rejected = await api.http.post(
        f"/cases/{case_id}/tasks/{confirm['task_id']}/decision",
        json={"outcome": "reject", "reason": "contributions missing"},
        headers=social,
    )
    assert rejected.status_code == 200, rejected.text
    assert confirm["task_id"] not in [t["id"] for t in rejected.json()["open_tasks"]]
    await wait_stage(api.http, employer, case_id, "rejected")


async def test_an_abandoned_idempotency_key_is_taken_over(api: Api) -> None:
    """A process that died between claiming a key and answering must not block the key for good:
    after a few minutes a retry takes it over and is applied."""
    who = Principal("s", Role.EMPLOYER, "org", None, None, None)
    print_ = fingerprint("POST", "/x", {"a": 1})
    calls = 0

    async def apply() -> tuple[int, object]:
        nonlocal calls
        calls += 1
        return 200, {"n": calls}

    # A first claim that never answered (its process died): the row has no status.
    assert _claim(api.sessions, "employer:s", "dead-key", print_)
    with api.sessions.begin() as db:
        db.execute(
            update(ApiRequestRow)
            .where(ApiRequestRow.key == "dead-key")
            .values(created_at=datetime.now(UTC) - ABANDONED_AFTER - timedelta(seconds=1))
        )
    answer = await once(api.sessions, who, "dead-key", print_, apply)
    assert answer.status_code == 200
    assert calls == 1
    again = await once(api.sessions, who, "dead-key", print_, apply)
    assert again.body == answer.body
    assert calls == 1
