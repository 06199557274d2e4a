"""Personal data never reaches the logs, and error bodies never echo secrets or inputs."""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.db import Database
from tests.applicants.helpers import csv_bytes, csv_row
from tests.factories import applicant_payload, auth, make_cohort, make_key
from tests.live import live_server


def _cnic() -> str:
    d = f"{random.randrange(10**12, 10**13):013d}"
    return f"{d[:5]}-{d[5:12]}-{d[12]}"


def _phone() -> str:
    return f"0300{random.randrange(10**6, 10**7):07d}"


def _spellings(cnic: str, phone: str, email: str) -> set[str]:
    digits = cnic.replace("-", "")
    national = phone[1:]  # 300XXXXXXX
    return {cnic, digits, phone, national, f"+92{national}", f"92{national}", email}


@pytest.mark.slow
async def test_a_full_scenario_leaves_no_personal_data_in_the_logs(
    fresh_database_url: str, tmp_path: Path
) -> None:
    db = Database.from_url(fresh_database_url)
    async with db.sessionmaker() as session:
        staff = await make_key(session, "staff")
        client_token = await make_key(session, "client")
        cohort = await make_cohort(session, capacity=5, start_date=date(2031, 1, 1))
        cohort_id = cohort.id
        await session.commit()
    await db.dispose()

    secrets: set[str] = set()

    def person() -> dict[str, object]:
        cnic, phone = _cnic(), _phone()
        email = f"p{random.randrange(10**9)}@example.pk"
        secrets.update(_spellings(cnic, phone, email))
        return applicant_payload(cnic=cnic, phone=phone, email=email, full_name="Zarmeena Qureshi")

    log = tmp_path / "server.log"
    env = {"ENROLL_LOG_LEVEL": "debug", "ENROLL_LOG_FORMAT": "json"}
    with live_server(fresh_database_url, env=env, log_path=log) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            c, s = auth(client_token), auth(staff)
            first = person()
            created = await http.post("/api/v1/applicants", json=first, headers=c)
            assert created.status_code == 201
            applicant_id = created.json()["id"]
            dup = await http.post("/api/v1/applicants", json=first, headers=c)
            assert dup.status_code == 409
            digits = str(first["cnic"]).replace("-", "")
            bad_cnic = await http.post(
                "/api/v1/applicants", json={**person(), "cnic": digits + "9"}, headers=c
            )
            assert bad_cnic.status_code == 422
            assert digits not in bad_cnic.text
            bad_phone = await http.post(
                "/api/v1/applicants", json={**person(), "phone": "0421234567"}, headers=c
            )
            assert bad_phone.status_code == 422
            assert "0421234567" not in bad_phone.text
            found = await http.post("/api/v1/applicants/lookup", json={"cnic": digits}, headers=c)
            assert found.json()["items"][0]["id"] == applicant_id
            other = person()
            patched = await http.patch(
                f"/api/v1/applicants/{applicant_id}",
                json={"phone": other["phone"], "email": other["email"]},
                headers=c,
            )
            assert patched.status_code == 200
            rows = [csv_row(**person()), csv_row(**person()), csv_row(**{**person(), "cnic": "1"})]
            imported = await http.post(
                "/api/v1/applicants/import",
                files={"file": ("a.csv", csv_bytes(rows), "text/csv")},
                headers=s,
            )
            assert imported.status_code == 200
            assert imported.json()["created"] == 2
            enrolled = await http.post(
                f"/api/v1/cohorts/{cohort_id}/enrollments",
                json={"applicant_id": applicant_id},
                headers=c,
            )
            assert enrolled.status_code == 201
            assert (await http.get("/health")).status_code == 200

    text = log.read_text()
    assert '"route": "/api/v1/applicants"' in text  # the access log was captured
    leaked = sorted(s for s in secrets if s in text)
    assert not leaked, f"personal data in the log: {leaked}"
    assert "Zarmeena" not in text


async def test_a_bad_token_is_not_echoed(client: httpx.AsyncClient) -> None:
    token = "enr_" + "s3cr3t" * 6
    response = await client.get("/api/v1/programmes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "s3cr3t" not in response.text
    assert "s3cr3t" not in str(response.headers)


async def test_validation_errors_name_fields_without_echoing_values(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "client")
    body = applicant_payload(
        cnic="35202-123456X-1",
        phone="+1 202 555 0143",
        email="not-an-email@@example.pk",
        date_of_birth="1890-02-30",
        gender="unknown-gender-value",
        province="atlantis-province",
        consent="yes-please",
    )
    response = await client.post("/api/v1/applicants", json=body, headers=auth(token))
    assert response.status_code == 422
    problem = response.json()
    assert {e["field"] for e in problem["errors"]} >= {"cnic", "phone", "email", "gender"}
    for error in problem["errors"]:
        assert set(error) == {"field", "message", "code"}
    for value in (
        "123456X",
        "555 0143",
        "not-an-email",
        "unknown-gender-value",
        "atlantis",
        "yes-please",
    ):
        assert value not in response.text, value
    assert not re.search(r"\binput\b", response.text)
