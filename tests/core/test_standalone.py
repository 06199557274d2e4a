"""``execute_standalone``: one statement outside a transaction on PostgreSQL, unless one is open.

These run on a database of their own (committed to for real), since what is
under test is exactly when a statement commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text, update

from service.core.auth import Actor
from service.core.db import Database, execute_standalone
from service.enrollments import service as enrollments
from service.models import ApiKey, Applicant, Cohort, Enrollment
from service.models.enums import Role
from tests.factories import make_applicant, make_cohort, make_key, unique


@pytest.fixture
async def db(fresh_database_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(fresh_database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def _count(db: Database, name: str) -> int:
    """Rows of ``applicants`` named ``name``, read on another connection (committed rows only)."""
    async with db.sessionmaker() as other:
        stmt = select(func.count()).select_from(Applicant).where(Applicant.full_name == name)
        return int(await other.scalar(stmt) or 0)


def _rename(applicant_id: str, name: str) -> object:
    return update(Applicant).where(Applicant.id == applicant_id).values(full_name=name)


async def _admin(db: Database) -> Actor:
    async with db.sessionmaker() as s:
        await make_key(s, "admin")
        key_id = await s.scalar(select(ApiKey.id).where(ApiKey.role == "admin"))
        await s.commit()
    assert key_id is not None
    return Actor(key_id=key_id, name="admin", role=Role.admin)


async def _enrollable(db: Database) -> tuple[str, str, Actor]:
    """A committed open cohort, an applicant it takes, and an admin actor."""
    async with db.sessionmaker() as s:
        cohort = await make_cohort(s, capacity=3)
        applicant = await make_applicant(s)
        await s.commit()
        ids = (cohort.id, applicant.id)
    return (*ids, await _admin(db))


async def _applicant(db: Database) -> str:
    async with db.sessionmaker() as s:
        applicant = await make_applicant(s)
        await s.commit()
        return applicant.id


@pytest.mark.postgres_only
async def test_without_a_transaction_it_commits_by_itself(db: Database) -> None:
    applicant_id, name = await _applicant(db), unique("standalone")
    async with db.sessionmaker() as s:
        await execute_standalone(s, _rename(applicant_id, name))  # type: ignore[arg-type]
        assert await _count(db, name) == 1  # visible before this session commits
        await s.rollback()
    assert await _count(db, name) == 1  # and a rollback does not undo it


@pytest.mark.postgres_only
async def test_inside_a_transaction_it_joins_it(db: Database) -> None:
    applicant_id, name = await _applicant(db), unique("joined")
    async with db.sessionmaker() as s:
        await s.execute(text("SELECT 1"))  # the session's transaction has begun
        await execute_standalone(s, _rename(applicant_id, name))  # type: ignore[arg-type]
        assert await _count(db, name) == 0  # not committed yet
        await s.rollback()
    assert await _count(db, name) == 0


@pytest.mark.postgres_only
async def test_later_statements_still_run_in_a_transaction(db: Database) -> None:
    """After a standalone statement the session's own writes are one unit of work again."""
    applicant_id, name = await _applicant(db), unique("later")
    async with db.sessionmaker() as s:
        await execute_standalone(s, select(ApiKey.id).limit(1))
        await s.execute(_rename(applicant_id, name))  # type: ignore[call-overload]
        assert await _count(db, name) == 0
        await s.rollback()
    assert await _count(db, name) == 0


async def test_on_sqlite_it_is_part_of_the_transaction(db: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the SQLite behaviour")
    applicant_id, name = await _applicant(db), unique("sqlite")
    async with db.sessionmaker() as s:
        await execute_standalone(s, _rename(applicant_id, name))  # type: ignore[arg-type]
        await s.rollback()
    assert await _count(db, name) == 0


@pytest.mark.postgres_only
async def test_an_enrollment_releases_the_cohort_lock_when_its_statement_ends(
    db: Database,
) -> None:
    """The hot-cohort property: the cohort row is free again as soon as the enrollment
    statement returns, before the request's unit of work commits."""
    cohort_id, applicant_id, actor = await _enrollable(db)
    async with db.sessionmaker() as request:
        read = await enrollments.enroll(request, actor, cohort_id, applicant_id)
        assert read.status == "enrolled"
        async with db.sessionmaker() as other:
            # NOWAIT fails at once if anyone still holds the row.
            row = select(Cohort.seats_taken).where(Cohort.id == cohort_id)
            locked = await other.execute(row.with_for_update(nowait=True))
            assert locked.scalar_one() == 1
            count = select(func.count()).select_from(Enrollment)
            assert await other.scalar(count.where(Enrollment.id == read.id)) == 1
            await other.rollback()
        await request.commit()


@pytest.mark.postgres_only
async def test_an_enrollment_with_an_open_transaction_commits_with_it(db: Database) -> None:
    """With the request's transaction open (an Idempotency-Key record), the enrollment is
    part of it: rolled back with it, seat included."""
    cohort_id, applicant_id, actor = await _enrollable(db)
    async with db.sessionmaker() as request:
        await request.execute(text("SELECT 1"))
        await enrollments.enroll(request, actor, cohort_id, applicant_id)
        await request.rollback()
    async with db.sessionmaker() as other:
        seats = await other.scalar(select(Cohort.seats_taken).where(Cohort.id == cohort_id))
        rows = await other.scalar(
            select(func.count()).select_from(Enrollment).where(Enrollment.cohort_id == cohort_id)
        )
    assert (seats, rows) == (0, 0)
