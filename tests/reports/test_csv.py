"""GET /api/v1/reports/completions.csv: streamed, masked for reporters, contacts on request."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.db import Database
from service.core.pseudonyms import pseudonyms_for
from service.models import Applicant, Enrollment
from service.reports.audience import audience_for
from service.reports.service.export import export_rows
from tests.factories import auth, make_key
from tests.reports.fixtures import build_world
from tests.reports.keys import report_key

URL = "/api/v1/reports/completions.csv"


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_reporter_gets_masked_rows_without_contacts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    token, actor = await report_key(session, "reporter")
    pseudonyms = await pseudonyms_for(session, actor.key_id)
    r = await client.get(URL, headers=auth(token))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    header = r.text.splitlines()[0].split(",")
    assert header[:3] == ["enrollment_id", "applicant_id", "cnic"]
    assert not {"full_name", "email", "phone"} & set(header)
    rows = parse(r.text)
    # Live completions only: C's revoked certificate is left out.
    live = ["A-isb", "A-online", "A-ali", "B-isb"]
    assert sorted(row["enrollment_id"] for row in rows) == sorted(
        pseudonyms.of("enrollment", world.enrollments[k].id) for k in live
    )
    for row in rows:
        assert row["cnic"].startswith("*****-*******-")
        assert row["certificate_code"] == ""
    b_id = pseudonyms.of("enrollment", world.enrollments["B-isb"].id)
    b = next(row for row in rows if row["enrollment_id"] == b_id)
    assert b["applicant_id"] == pseudonyms.of("applicant", world.people["B"].id)
    assert b["cnic"] == "*****-*******-" + world.people["B"].cnic[-1]
    assert (b["programme"], b["cohort"], b["centre"], b["province"]) == (
        "zte-ict",
        "zte-isb-1",
        "isb-gitc",
        "sindh",
    )
    assert (b["age_band"], b["score"], b["attendance"]) == ("30-35", "80", "90")
    assert b["completed_at"].endswith("Z")


async def test_reporter_may_not_ask_for_contacts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    r = await client.get(
        URL, params={"fields": "full"}, headers=auth(await make_key(session, "reporter"))
    )
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_staff_full_export(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    world = await build_world(session)
    headers = auth(await make_key(session, role))
    plain = parse((await client.get(URL, headers=headers)).text)
    a = world.people["A"]
    assert {row["cnic"] for row in plain if row["applicant_id"] == a.id} == {a.cnic}
    assert "email" not in plain[0]
    full = parse((await client.get(URL, params={"fields": "full"}, headers=headers)).text)
    row = next(r for r in full if r["applicant_id"] == a.id)
    assert (row["cnic"], row["full_name"], row["email"], row["phone"]) == (
        a.cnic,
        a.full_name,
        a.email,
        a.phone,
    )


async def test_bad_fields_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    r = await client.get(
        URL, params={"fields": "everything"}, headers=auth(await make_key(session, "admin"))
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["fields"]


async def test_empty_export_has_the_header(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    r = await client.get(URL, headers=auth(await make_key(session, "reporter")))
    assert r.status_code == 200
    assert r.text.splitlines() == [r.text.splitlines()[0]]


@pytest.mark.parametrize("fields", ["standard", "full"])
async def test_export_matches_the_python_formatter_field_by_field(
    client: httpx.AsyncClient, session: AsyncSession, database: Database, fields: str
) -> None:
    """PostgreSQL formats the rows in SQL (COPY); every field must read as the
    Python formatter (the SQLite path) writes it: fractional and whole scores,
    timestamps with and without microseconds, quotes and commas, Urdu."""
    world = await build_world(session)
    a, b = world.enrollments["A-isb"], world.enrollments["B-isb"]
    await session.execute(
        update(Enrollment)
        .where(Enrollment.id == a.id)
        .values(score=87.5, attendance=66.25, completed_at=datetime(2026, 3, 4, 5, 6, 7, 890, UTC))
    )
    await session.execute(
        update(Enrollment).where(Enrollment.id == b.id).values(completed_at=None, score=None)
    )
    await session.execute(
        update(Applicant)
        .where(Applicant.id == world.people["A"].id)
        .values(full_name='عائشہ "Ayesha", خان', district="Dera Ghazi, Khan")
    )
    # Cells the neutralising rule changes, and cells it must leave alone.
    await session.execute(
        update(Applicant)
        .where(Applicant.id == world.people["B"].id)
        .values(full_name="=1+1", district="-2+3", phone="+923001234567", email="@x")
    )
    await session.flush()
    token, actor = await report_key(session, "reporter" if fields == "standard" else "admin")
    r = await client.get(URL, params={"fields": fields}, headers=auth(token))
    assert r.status_code == 200
    got = parse(r.text)
    audience = await audience_for(session, actor)
    expected_text = "".join(
        [
            chunk
            async for chunk in export_rows(database.sessionmaker, audience, full=fields == "full")
        ]
    )
    expected = parse(expected_text)
    assert r.text.splitlines()[0] == expected_text.splitlines()[0]
    assert got == expected
    row = next(x for x in got if x["enrollment_id"] == audience.enrollment_id(a.id))
    assert (row["score"], row["attendance"]) == ("87.5", "66.25")
    assert row["completed_at"] == "2026-03-04T05:06:07.000890Z"
    assert row["district"] == "Dera Ghazi, Khan"
    b_row = next(x for x in got if x["enrollment_id"] == audience.enrollment_id(b.id))
    assert b_row["district"] == "'-2+3"
    if fields == "full":
        assert (b_row["full_name"], b_row["email"]) == ("'=1+1", "'@x")
        assert b_row["phone"] == "+923001234567"
    assert b_row["score"] == ""
    assert b_row["completed_at"].endswith("T10:00:00Z")  # the certificate's issue time
