"""Found by fuzzing (`make fuzz` on PostgreSQL): dates took numbers and other ISO spellings.

pydantic's lax ``date`` read ``0`` as 1970-01-01 (seconds since the epoch) and
``date.fromisoformat`` takes ``20310101`` and week dates; the contract's dates
are ``YYYY-MM-DD``, so each of these is a 422 naming the field.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import applicant_payload, auth, make_cohort, make_key

NOT_A_DATE = [0, 1924905600, True, "20310101", "2031-W01-1", "2031-01-01T00:00:00", "01/01/2031"]

COHORT = {
    "programme": "zte-ict",
    "centre": "isb-gitc",
    "code": "dates-1",
    "name": "N",
    "track": "cloud",
    "start_date": "2031-01-01",
    "end_date": "2031-02-01",
    "capacity": 5,
    "mode": "onsite",
}


def fields(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.mark.parametrize("value", NOT_A_DATE)
async def test_cohort_dates_are_yyyy_mm_dd_only(
    client: httpx.AsyncClient, session: AsyncSession, value: object
) -> None:
    token = await make_key(session, "admin")
    cohort = await make_cohort(session)
    created = await client.post(
        "/api/v1/cohorts", json={**COHORT, "start_date": value}, headers=auth(token)
    )
    assert list(fields(created)) == ["start_date"]
    assert "YYYY-MM-DD" in fields(created)["start_date"]
    patched = await client.patch(
        f"/api/v1/cohorts/{cohort.id}", json={"end_date": value}, headers=auth(token)
    )
    assert list(fields(patched)) == ["end_date"]


@pytest.mark.parametrize("value", NOT_A_DATE)
async def test_target_deadline_is_yyyy_mm_dd_only(
    client: httpx.AsyncClient, session: AsyncSession, value: object
) -> None:
    token = await make_key(session, "admin")
    body = {
        "code": "t-dates",
        "name": "T",
        "goal": 10,
        "metric": "completions",
        "programmes": ["zte-ict"],
        "deadline": value,
    }
    response = await client.post("/api/v1/targets", json=body, headers=auth(token))
    assert list(fields(response)) == ["deadline"]


@pytest.mark.parametrize("value", ["0", "1924905600", "20310101", "2031-W01-1", "2031-02-30"])
async def test_breakdown_date_range_is_yyyy_mm_dd_only(
    client: httpx.AsyncClient, session: AsyncSession, value: str
) -> None:
    token = await make_key(session, "reporter")
    response = await client.get(
        "/api/v1/reports/breakdown",
        params={"dimension": "province", "from": value, "to": value},
        headers=auth(token),
    )
    assert fields(response) == {
        "from": "Give a real date as YYYY-MM-DD.",
        "to": "Give a real date as YYYY-MM-DD.",
    }


async def test_good_dates_still_pass(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "admin")
    created = await client.post(
        "/api/v1/cohorts",
        json={**COHORT, "start_date": " 2031-01-01 ", "end_date": "2031-02-01"},
        headers=auth(token),
    )
    assert created.status_code == 201, created.text
    assert created.json()["start_date"] == "2031-01-01"
    report = await client.get(
        "/api/v1/reports/breakdown",
        params={"dimension": "province", "from": "2031-01-01", "to": "2031-12-31"},
        headers=auth(token),
    )
    assert report.status_code == 200, report.text


@pytest.mark.parametrize("value", ["20020314", "2002-W11-4", 1016064000])
async def test_date_of_birth_is_yyyy_mm_dd_only(
    client: httpx.AsyncClient, session: AsyncSession, value: object
) -> None:
    token = await make_key(session, "client")
    response = await client.post(
        "/api/v1/applicants", json=applicant_payload(date_of_birth=value), headers=auth(token)
    )
    assert list(fields(response)) == ["date_of_birth"]
    assert "YYYY-MM-DD" in fields(response)["date_of_birth"]
