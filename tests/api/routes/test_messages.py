"""``api/routes/messages.py``: who reads a case's messages, and who changes the number its texts
go to (the person, their employer, an HR clerk at the counter), refused with a reason otherwise,
kept masked in every answer and in the audit log."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.support import (
    assert_problem,
    declare_case,
    employer_headers,
    new_org,
    new_region,
)


async def test_the_number_texts_go_to_is_changed_by_the_person_their_employer_or_the_counter(
    api: Api,
) -> None:
    region = new_region()
    employer = employer_headers(api, new_org())
    case_id, id_number = await declare_case(api, employer, region=region)
    path = f"/cases/{case_id}/contact"
    retiree = api.as_(role="individual", id_number=id_number)
    hr = api.as_(role="clerk", department="hr", region=region)
    box = await api.http.get(f"/cases/{case_id}/messages", headers=retiree)
    assert box.json()["mobile_masked"] is None  # declared without one

    changed = await api.http.put(path, json={"mobile": "+86 139-0431-2288"}, headers=retiree)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"case_id": case_id, "mobile_masked": "139****2288"}
    box = await api.http.get(f"/cases/{case_id}/messages", headers=hr)
    assert box.json()["mobile_masked"] == "139****2288"

    by_employer = await api.http.put(path, json={"mobile": "13504310001"}, headers=employer)
    assert by_employer.json()["mobile_masked"] == "135****0001"
    at_counter = await api.http.put(
        path, json={"mobile": "13604310002", "at_counter": True}, headers=hr
    )
    assert at_counter.json()["mobile_masked"] == "136****0002"

    # Refused, with a reason, changing nothing.
    for body in ({"mobile": "0431-88886666"}, {"mobile": ""}, {}, {"mobile": "1" * 30}):
        assert_problem(await api.http.put(path, json=body, headers=retiree), 422)
    assert_problem(await api.http.put(path, json={"mobile": "13700000000"}, headers=hr), 403)
    social = api.as_(role="clerk", department="social-insurance", region=region)
    refused = await api.http.put(
        path, json={"mobile": "13700000000", "at_counter": True}, headers=social
    )
    assert_problem(refused, 403, slug="forbidden")
    other = employer_headers(api, new_org())
    assert_problem(await api.http.put(path, json={"mobile": "13700000000"}, headers=other), 403)
    box = await api.http.get(f"/cases/{case_id}/messages", headers=hr)
    assert box.json()["mobile_masked"] == "136****0002"

    audit = (await api.http.get(f"/cases/{case_id}/audit", headers=hr)).json()
    changes = [e for e in audit if e["action"] == "change-contact"]
    assert [e["result"] for e in changes].count("accepted") == 3
    assert "13604310002" not in str(audit) and "136****0002" in str(audit)
