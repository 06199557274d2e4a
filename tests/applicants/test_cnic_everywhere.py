"""One CNIC normaliser: a spelling that registers is the same CNIC in bulk completions."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.applicants.helpers import register
from tests.factories import auth, make_cohort, make_key

URDU_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("as_csv", [False, True], ids=["json", "csv"])
async def test_urdu_digit_cnic_registers_and_then_matches_in_bulk_completions(
    client: httpx.AsyncClient, session: AsyncSession, as_csv: bool
) -> None:
    token = await make_key(session, "staff", centres=["isb-gitc"])
    cohort = await make_cohort(session)
    urdu = "35202-1234567-1".translate(URDU_DIGITS)
    assert urdu == "۳۵۲۰۲-۱۲۳۴۵۶۷-۱"
    registered = await register(client, token, cnic=urdu)
    assert registered.status_code == 201, registered.text
    assert registered.json()["cnic"] == "35202-1234567-1"
    enrolled = await client.post(
        f"/api/v1/cohorts/{cohort.id}/enrollments",
        json={"applicant_id": registered.json()["id"]},
        headers=auth(token),
    )
    assert enrolled.status_code == 201, enrolled.text
    started = await client.post(f"/api/v1/cohorts/{cohort.id}/start", headers=auth(token))
    assert started.status_code == 200, started.text

    # The bulk row spells it once more in another script's digits, without dashes.
    spelled = "3520212345671".translate(ARABIC_INDIC_DIGITS)
    url = f"/api/v1/cohorts/{cohort.id}/completions"
    if as_csv:
        data = f"cnic,score,attendance\n{spelled},80,90\n".encode()
        files = {"file": ("completions.csv", data, "text/csv")}
        response = await client.post(url, files=files, headers=auth(token))
    else:
        rows = [{"cnic": spelled, "score": 80, "attendance": 90}]
        response = await client.post(url, json=rows, headers=auth(token))
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["status"] == "completed", result
    assert result["enrollment_id"] == enrolled.json()["id"]
    assert result["certificate_code"]


async def test_a_spelling_registration_refuses_is_refused_in_bulk_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    cohort = await make_cohort(session, status="in_progress")
    bad = "35202-123456A-1"
    assert (await register(client, token, cnic=bad)).status_code == 422
    response = await client.post(
        f"/api/v1/cohorts/{cohort.id}/completions",
        json=[{"cnic": bad, "score": 80, "attendance": 90}],
        headers=auth(token),
    )
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["status"] == "error"
    assert "cnic must be 13 digits" in result["error"]
