"""Waitlist positions in lists: right on every page, and one statement per page for all of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service.models import Enrollment
from tests.factories import auth, make_applicant, make_cohort, make_enrollment, make_key


@contextmanager
def statements(connection: AsyncConnection) -> Iterator[list[str]]:
    """The SQL statements run on the test's connection while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sync = connection.sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sync, "before_cursor_execute", record)


async def pages(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: str
) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        r = await client.get(url, params=query, headers=headers)
        assert r.status_code == 200, r.text
        out.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out


async def test_positions_are_right_across_pages(
    client: httpx.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    cohort = await make_cohort(session, capacity=1)
    seated = await make_enrollment(session, cohort)
    waiting = [await make_enrollment(session, cohort, status="waitlisted") for _ in range(7)]
    # Line order is request order (queue_no), not id order: reverse it, so every page
    # holds places from across the line; two who left open gaps in the numbering.
    for enrollment, queue_no in zip(waiting, range(100, 93, -1), strict=True):
        await session.execute(
            update(Enrollment).where(Enrollment.id == enrollment.id).values(queue_no=queue_no)
        )
    for gone in (waiting[1], waiting[4]):
        await session.execute(
            update(Enrollment).where(Enrollment.id == gone.id).values(status="withdrawn")
        )
    # Another cohort's line does not count in this one's positions.
    other = await make_cohort(session, capacity=1)
    for _ in range(3):
        await make_enrollment(session, other, status="waitlisted")
    await session.flush()
    admin = auth(await make_key(session, "admin"))
    url = f"/api/v1/cohorts/{cohort.id}/enrollments"

    # Still waiting, by queue_no: 6 (94), 5 (95), 3 (97), 2 (98), 0 (100).
    expected = {waiting[i].id: p for p, i in enumerate((6, 5, 3, 2, 0), start=1)}
    got = await pages(client, url, admin, status="waitlisted", limit="2")
    assert [len(page) for page in got] == [2, 2, 1]
    assert {e["id"]: e["waitlist_position"] for page in got for e in page} == expected

    everyone = await pages(client, url, admin, limit="3")
    left = {e.id: None for e in waiting if e.id not in expected}
    assert {e["id"]: e["waitlist_position"] for page in everyone for e in page} == (
        expected | left | {seated.id: None}
    )

    # One single read answers the same.
    for enrollment_id, position in expected.items():
        r = await client.get(f"/api/v1/enrollments/{enrollment_id}", headers=admin)
        assert r.json()["waitlist_position"] == position


async def test_a_page_of_positions_costs_one_statement(
    client: httpx.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    cohort = await make_cohort(session, capacity=1)
    for _ in range(12):
        await make_enrollment(session, cohort, status="waitlisted")
    admin = auth(await make_key(session, "admin"))
    url = f"/api/v1/cohorts/{cohort.id}/enrollments"

    counts = []
    for limit in ("2", "12"):
        params = {"status": "waitlisted", "limit": limit}
        with statements(connection) as seen:
            r = await client.get(url, params=params, headers=admin)
        assert r.status_code == 200
        counts.append(sum("row_number() over" in s.lower() for s in seen))
        positions = [e["waitlist_position"] for e in r.json()["items"]]
        assert positions == list(range(1, int(limit) + 1))
        # No correlated count per row any more.
        assert not any("count(" in s.lower() and "enrollments_1" in s for s in seen)
    assert counts == [1, 1]


async def test_applicant_list_positions_in_each_cohort(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    applicant = await make_applicant(session)
    first, second = await make_cohort(session, capacity=1), await make_cohort(session, capacity=1)
    for _ in range(2):
        await make_enrollment(session, first, status="waitlisted")
    mine_first = await make_enrollment(session, first, applicant, status="waitlisted")
    mine_second = await make_enrollment(session, second, applicant, status="waitlisted")
    admin = auth(await make_key(session, "admin"))
    r = await client.get(f"/api/v1/applicants/{applicant.id}/enrollments", headers=admin)
    assert {e["id"]: e["waitlist_position"] for e in r.json()["items"]} == {
        mine_first.id: 3,
        mine_second.id: 1,
    }
