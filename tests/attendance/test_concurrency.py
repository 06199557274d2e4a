"""Two staff marking the same session at once (PostgreSQL, committed, concurrent
connections): the last write wins per trainee, both writes are in the history,
and never two marks of one trainee at one session. Two staff marking different
sessions of one cohort at once: a crossing that takes both markings is warned of
exactly once."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from service.core.config import Settings
from service.core.db import Database
from service.main import create_app
from service.models import AttendanceMark, AttendanceMarkChange, AttendanceSession, Event
from tests.attendance.helpers import START, add_sessions, clock_at, days, running_cohort
from tests.completions.helpers import many_enrolled
from tests.factories import auth, make_key

pytestmark = pytest.mark.postgres_only
TIMEOUT = 60


async def test_two_staff_marking_at_once(fresh_database_url: str) -> None:
    db = Database.from_url(fresh_database_url)
    app = create_app(settings=Settings(database_url=fresh_database_url), database=db)
    app.state.clock = clock_at()
    try:
        async with db.sessionmaker() as s:
            tokens = [await make_key(s, "staff"), await make_key(s, "staff")]
            cohort = await running_cohort(s, capacity=40)
            trainees = [e for e, _ in await many_enrolled(s, cohort, 40)]
            [held] = await add_sessions(s, cohort, START)
            await s.commit()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def mark(token: str, status: str) -> httpx.Response:
                rows = [{"enrollment_id": t, "status": status} for t in trainees]
                return await client.put(
                    f"/api/v1/sessions/{held}/attendance", json=rows, headers=auth(token)
                )

            for round_ in range(3):
                responses = await asyncio.wait_for(
                    asyncio.gather(mark(tokens[0], "present"), mark(tokens[1], "absent")),
                    timeout=TIMEOUT,
                )
                assert [r.status_code for r in responses] == [200, 200]
                async with db.sessionmaker() as s:
                    marks = (
                        await s.execute(
                            select(AttendanceMark.enrollment_id, AttendanceMark.status).where(
                                AttendanceMark.session_id == held
                            )
                        )
                    ).all()
                    assert len(marks) == 40  # one per trainee
                    assert len({status for _, status in marks}) == 1  # one request won it all
                    changes = await s.scalar(select(func.count()).select_from(AttendanceMarkChange))
                    assert changes == 80 * (round_ + 1)  # both requests recorded
                # The request that went second saw the first one's marks as "previous".
                previous = [{r["previous"] for r in x.json()["results"]} for x in responses]
                assert sorted(map(len, previous)) == [1, 1]

        async with db.sessionmaker() as s:
            with pytest.raises(IntegrityError):
                await s.execute(
                    insert(AttendanceMark),
                    [{"session_id": held, "enrollment_id": trainees[0], "status": "late"}],
                )
    finally:
        await db.dispose()


async def test_a_crossing_made_by_two_markings_at_once_is_warned_once(
    fresh_database_url: str,
) -> None:
    db = Database.from_url(fresh_database_url)
    app = create_app(settings=Settings(database_url=fresh_database_url), database=db)
    app.state.clock = clock_at()
    try:
        async with db.sessionmaker() as s:
            tokens = [await make_key(s, "staff"), await make_key(s, "staff")]
            cohort = await running_cohort(s, capacity=10)  # min_attendance 75
            [(trainee, _)] = await many_enrolled(s, cohort, 1)
            sessions = await add_sessions(s, cohort, *days(6))
            await s.commit()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def mark(token: str, session_id: str, status: str) -> httpx.Response:
                return await client.put(
                    f"/api/v1/sessions/{session_id}/attendance",
                    json=[{"enrollment_id": trainee, "status": status}],
                    headers=auth(token),
                )

            for held in sessions:  # 6 of 6 present
                assert (await mark(tokens[0], held, "present")).status_code == 200
            for round_ in range(3):
                # Either marking alone leaves 5 of 6 (83.33%); both take the trainee to
                # 4 of 6 (66.67%): whichever commits second sees the first and warns.
                responses = await asyncio.wait_for(
                    asyncio.gather(
                        mark(tokens[0], sessions[0], "absent"),
                        mark(tokens[1], sessions[1], "absent"),
                    ),
                    timeout=TIMEOUT,
                )
                assert [r.status_code for r in responses] == [200, 200]
                async with db.sessionmaker() as s:
                    events = await s.scalar(
                        select(func.count())
                        .select_from(Event)
                        .where(Event.type == "attendance.at_risk")
                    )
                assert events == round_ + 1
                for held in sessions[:2]:  # back to 6 of 6: no warning on the way up
                    assert (await mark(tokens[0], held, "present")).status_code == 200
    finally:
        await db.dispose()


async def test_a_session_deleted_while_being_marked_is_a_404(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session is deleted (committed, another connection) after the marking read it
    and before it takes the cohort's lock: 404, not a foreign-key error."""
    from service.attendance import mark_repository

    db = Database.from_url(fresh_database_url)
    app = create_app(settings=Settings(database_url=fresh_database_url), database=db)
    app.state.clock = clock_at()
    try:
        async with db.sessionmaker() as s:
            token = await make_key(s, "staff")
            cohort = await running_cohort(s, capacity=3)
            trainees = [e for e, _ in await many_enrolled(s, cohort, 3)]
            [held] = await add_sessions(s, cohort, START)
            await s.commit()
        targets = mark_repository.targets

        async def targets_then_deleted(*args: object, **kwargs: object) -> object:
            found = await targets(*args, **kwargs)  # type: ignore[arg-type]
            async with db.sessionmaker() as other, other.begin():
                await other.execute(delete(AttendanceSession).where(AttendanceSession.id == held))
            return found

        monkeypatch.setattr(mark_repository, "targets", targets_then_deleted)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            rows = [{"enrollment_id": t, "status": "present"} for t in trainees]
            r = await client.put(
                f"/api/v1/sessions/{held}/attendance", json=rows, headers=auth(token)
            )
        assert r.status_code == 404, r.text
        async with db.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(AttendanceMark)) == 0
    finally:
        await db.dispose()
