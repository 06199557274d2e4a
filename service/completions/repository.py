"""Every SQL statement of completions and certificates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Float, String, column, insert, or_, select, update, values
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.completions import codes
from service.models import (
    Applicant,
    Certificate,
    Cohort,
    Enrollment,
    EnrollmentEvent,
    Programme,
)
from service.models.enums import EnrollmentStatus

CODE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class EnrollmentInCohort:
    enrollment: Enrollment
    cohort: Cohort
    programme_code: str


@dataclass(frozen=True, slots=True)
class CohortWithProgramme:
    cohort: Cohort
    programme_code: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """An enrollment a bulk row may refer to."""

    id: str
    cohort_id: str
    status: str
    cnic: str
    queue_no: int


@dataclass(frozen=True, slots=True)
class Outcome:
    enrollment_id: str
    status: str
    score: float
    attendance: float


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    certificate: Certificate
    enrollment: Enrollment
    holder_name: str
    cohort: Cohort
    programme: Programme


async def enrollment_in_cohort(
    session: AsyncSession, enrollment_id: str
) -> EnrollmentInCohort | None:
    row = (
        await session.execute(
            select(Enrollment, Cohort, Programme.code)
            .join(Cohort, Cohort.id == Enrollment.cohort_id)
            .join(Programme, Programme.id == Cohort.programme_id)
            .where(Enrollment.id == enrollment_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return EnrollmentInCohort(row[0], row[1], row[2])


async def cohort_with_programme(
    session: AsyncSession, cohort_id: str
) -> CohortWithProgramme | None:
    row = (
        await session.execute(
            select(Cohort, Programme.code)
            .join(Programme, Programme.id == Cohort.programme_id)
            .where(Cohort.id == cohort_id)
        )
    ).one_or_none()
    return None if row is None else CohortWithProgramme(row[0], row[1])


async def mark_completed(
    session: AsyncSession,
    enrollment_id: str,
    *,
    status: str,
    score: float,
    attendance: float,
    at: datetime,
    key_id: str,
) -> Enrollment | None:
    """enrolled → completed|failed, only if still enrolled (None otherwise)."""
    result = await session.scalars(
        update(Enrollment)
        .where(Enrollment.id == enrollment_id, Enrollment.status == EnrollmentStatus.enrolled)
        .values(
            status=status,
            score=score,
            attendance=attendance,
            completed_at=at,
            completed_by_key_id=key_id,
            updated_at=at,
        )
        .returning(Enrollment),
        execution_options={"populate_existing": True},
    )
    return result.one_or_none()


async def candidates_for_rows(
    session: AsyncSession, cohort_id: str, ids: Sequence[str], cnics: Sequence[str]
) -> list[Candidate]:
    """One query: the enrollments named by id (any cohort) and those of the CNICs in this cohort."""
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(Enrollment.id.in_(ids))
    if cnics:
        conditions.append((Enrollment.cohort_id == cohort_id) & Applicant.cnic.in_(cnics))
    if not conditions:
        return []
    rows = await session.execute(
        select(
            Enrollment.id,
            Enrollment.cohort_id,
            Enrollment.status,
            Applicant.cnic,
            Enrollment.queue_no,
        )
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .where(or_(*conditions))
    )
    return [Candidate(r[0], r[1], r[2], r[3], r[4]) for r in rows]


# Rows per statement in the bulk paths. Each completed row runs the report
# triggers (about a millisecond at a million enrollments), so one statement for
# a 5,000-row batch could outlast the statement timeout; chunks stay far inside it.
BULK_CHUNK = 500

T = TypeVar("T")


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i : i + BULK_CHUNK] for i in range(0, len(items), BULK_CHUNK)]


async def mark_many_completed(
    session: AsyncSession, outcomes: Sequence[Outcome], *, at: datetime, key_id: str
) -> set[str]:
    """UPDATE ... FROM (VALUES ...) per chunk: the ids that were still enrolled and changed.

    The VALUES list is a CTE (``WITH outcomes(cols) AS (VALUES ...)``) rather than
    ``FROM (VALUES ...) AS v(cols)``: SQLite has no column list on a VALUES alias,
    both databases take the CTE.
    """
    changed: set[str] = set()
    for chunk in _chunks(outcomes):
        data = (
            values(
                column("id", String),
                column("status", String),
                column("score", Float),
                column("attendance", Float),
                name="outcomes",
            )
            .data([(o.enrollment_id, o.status, o.score, o.attendance) for o in chunk])
            .cte("outcomes")
        )
        result = await session.execute(
            update(Enrollment)
            .where(Enrollment.id == data.c.id, Enrollment.status == EnrollmentStatus.enrolled)
            .values(
                status=data.c.status,
                score=data.c.score,
                attendance=data.c.attendance,
                completed_at=at,
                completed_by_key_id=key_id,
                updated_at=at,
            )
            .returning(Enrollment.id)
            .execution_options(synchronize_session=False)
        )
        changed.update(result.scalars())
    return changed


async def issue_certificates(
    session: AsyncSession, enrollment_ids: Sequence[str], programme_code: str, *, at: datetime
) -> dict[str, str]:
    """Multi-row INSERTs of fresh codes, a chunk at a time; on the (astronomically
    rare) collision of a code with an existing one, the chunk is retried with new codes."""
    issued: dict[str, str] = {}
    for chunk in _chunks(enrollment_ids):
        issued.update(await _issue_chunk(session, chunk, programme_code, at=at))
    return issued


async def _issue_chunk(
    session: AsyncSession, enrollment_ids: Sequence[str], programme_code: str, *, at: datetime
) -> dict[str, str]:
    for attempt in range(1, CODE_ATTEMPTS + 1):
        issued = {eid: codes.generate(programme_code) for eid in enrollment_ids}
        if len(set(issued.values())) < len(issued):
            continue
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(Certificate),
                    [{"enrollment_id": e, "code": c, "issued_at": at} for e, c in issued.items()],
                )
        except IntegrityError:
            if attempt == CODE_ATTEMPTS:
                raise
            continue
        return issued
    raise RuntimeError("could not draw unique certificate codes")  # pragma: no cover


async def insert_events(session: AsyncSession, events: Sequence[dict[str, object]]) -> None:
    """One multi-row INSERT into the enrollment audit trail."""
    if events:
        await session.execute(insert(EnrollmentEvent), list(events))


async def certificate_code(session: AsyncSession, enrollment_id: str) -> str | None:
    return await session.scalar(
        select(Certificate.code).where(Certificate.enrollment_id == enrollment_id)
    )


async def certificate_by_code(
    session: AsyncSession, candidates: Sequence[str]
) -> CertificateRecord | None:
    if not candidates:
        return None
    row = (
        await session.execute(
            select(Certificate, Enrollment, Applicant.full_name, Cohort, Programme)
            .join(Enrollment, Enrollment.id == Certificate.enrollment_id)
            .join(Applicant, Applicant.id == Enrollment.applicant_id)
            .join(Cohort, Cohort.id == Enrollment.cohort_id)
            .join(Programme, Programme.id == Cohort.programme_id)
            .where(Certificate.code.in_(candidates))
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    return CertificateRecord(row[0], row[1], row[2], row[3], row[4])


async def revoke(
    session: AsyncSession, certificate_id: str, *, reason: str, at: datetime, key_id: str
) -> Certificate | None:
    """Revoke once: None when it was already revoked (a concurrent twin included)."""
    result = await session.scalars(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.revoked_at.is_(None))
        .values(revoked_at=at, revoked_reason=reason, revoked_by_key_id=key_id)
        .returning(Certificate),
        execution_options={"populate_existing": True},
    )
    return result.one_or_none()
