"""Found by fuzzing: numbers and dates took spellings the contract does not allow.

pydantic's lax mode read ``true`` as 1 and ``"5"`` as 5 in integer fields, and
a number as a date (``0`` as 1970-01-01, seconds since the epoch);
``date.fromisoformat`` takes ``20310101`` and week dates. Integers are JSON
integers and dates ``YYYY-MM-DD``; anything else is a 422 naming the field.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import applicant_payload, auth, cohort_payload, make_cohort, make_key

NOT_A_DATE = [0, 1924905600, True, "20310101", "2031-W01-1", "2031-01-01T00:00:00", "01/01/2031"]
TARGET = {"code": "t-strict", "name": "T", "goal": 10, "metric": "completions"}


def refused(response: httpx.Response) -> dict[str, str]:
    """The 422's bad fields and their messages."""
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def create_and_patch_cohort(
    client: httpx.AsyncClient, session: AsyncSession, field: str, value: object
) -> tuple[dict[str, str], dict[str, str]]:
    """The fields refused when ``field`` is ``value`` in a new cohort and in a PATCH."""
    token = await make_key(session, "admin")
    cohort = await make_cohort(session)
    created = await client.post(
        "/api/v1/cohorts", json=cohort_payload(**{field: value}), headers=auth(token)
    )
    patched = await client.patch(
        f"/api/v1/cohorts/{cohort.id}", json={field: value}, headers=auth(token)
    )
    return refused(created), refused(patched)


@pytest.mark.parametrize("value", [True, "5", 5.5])
@pytest.mark.parametrize("field", ["capacity", "min_attendance"])
async def test_cohort_integers_must_be_json_integers(
    client: httpx.AsyncClient, session: AsyncSession, field: str, value: object
) -> None:
    created, patched = await create_and_patch_cohort(client, session, field, value)
    assert list(created) == list(patched) == [field]


@pytest.mark.parametrize("value", NOT_A_DATE)
@pytest.mark.parametrize("field", ["start_date", "end_date"])
async def test_cohort_dates_are_yyyy_mm_dd_only(
    client: httpx.AsyncClient, session: AsyncSession, field: str, value: object
) -> None:
    created, patched = await create_and_patch_cohort(client, session, field, value)
    assert list(created) == list(patched) == [field]
    assert "YYYY-MM-DD" in created[field]


@pytest.mark.parametrize(
    ("field", "value"),
    [("goal", True), ("goal", "10"), *(("deadline", value) for value in NOT_A_DATE)],
)
async def test_target_goal_and_deadline_are_strict(
    client: httpx.AsyncClient, session: AsyncSession, field: str, value: object
) -> None:
    token = await make_key(session, "admin")
    body = {**TARGET, "programmes": ["zte-ict"], field: value}
    response = await client.post("/api/v1/targets", json=body, headers=auth(token))
    assert list(refused(response)) == [field]


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
    assert refused(response) == {
        "from": "Give a real date as YYYY-MM-DD.",
        "to": "Give a real date as YYYY-MM-DD.",
    }


@pytest.mark.parametrize("value", ["20020314", "2002-W11-4", 1016064000])
async def test_date_of_birth_is_yyyy_mm_dd_only(
    client: httpx.AsyncClient, session: AsyncSession, value: object
) -> None:
    token = await make_key(session, "client")
    response = await client.post(
        "/api/v1/applicants", json=applicant_payload(date_of_birth=value), headers=auth(token)
    )
    assert list(refused(response)) == ["date_of_birth"]
    assert "YYYY-MM-DD" in refused(response)["date_of_birth"]


async def test_the_strict_spellings_still_pass(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    created = await client.post(
        "/api/v1/cohorts",
        json=cohort_payload(start_date=" 2031-01-01 ", end_date="2031-02-01", capacity=5),
        headers=auth(token),
    )
    assert created.status_code == 201, created.text
    assert (created.json()["start_date"], created.json()["capacity"]) == ("2031-01-01", 5)
    target = await client.post(
        "/api/v1/targets",
        json={**TARGET, "programmes": ["zte-ict"], "deadline": "2031-12-31"},
        headers=auth(token),
    )
    assert target.status_code == 201, target.text
    report = await client.get(
        "/api/v1/reports/breakdown",
        params={"dimension": "province", "from": "2031-01-01", "to": "2031-12-31"},
        headers=auth(token),
    )
    assert report.status_code == 200, report.text
