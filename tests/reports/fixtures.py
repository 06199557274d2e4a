"""A small, hand-countable world for the report tests (see the numbers in each test)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Applicant, Certificate, Cohort, Enrollment, Target
from tests.factories import (
    make_applicant,
    make_certificate,
    make_cohort,
    make_enrollment,
    programme,
)


@dataclass
class World:
    today: date
    zte_isb: Cohort
    zte_online: Cohort
    alibaba: Cohort
    people: dict[str, Applicant]
    enrollments: dict[str, Enrollment]
    certificates: dict[str, Certificate]


def days_ago(n: int) -> datetime:
    return datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=n)


async def complete(
    session: AsyncSession, cohort: Cohort, applicant: Applicant, *, ago: int, code: str
) -> tuple[Enrollment, Certificate]:
    enrollment = await make_enrollment(
        session, cohort, applicant, status="completed", score=80, attendance=90
    )
    await session.execute(
        update(Enrollment).where(Enrollment.id == enrollment.id).values(completed_at=days_ago(ago))
    )
    cert = await make_certificate(session, enrollment, code=code)
    await session.execute(
        update(Certificate).where(Certificate.id == cert.id).values(issued_at=days_ago(ago))
    )
    return enrollment, cert


async def build_world(session: AsyncSession) -> World:
    """ZTE (zte-ict): cohorts at isb-gitc and online; Alibaba: one online cohort.

    - A completes both ZTE cohorts (5 and 2 days ago) and the Alibaba one (3 days ago);
    - B completed ZTE 40 days ago (outside the 30-day window), aged 35 at the start;
    - C completed ZTE 1 day ago, certificate revoked;
    - D enrolled, E waitlisted, H failed (ZTE isb); F withdrawn, G dropped (ZTE online);
    - I enrolled, J waitlisted (Alibaba).
    """
    start = date(2026, 6, 1)
    zte_isb = await make_cohort(
        session, capacity=50, code="zte-isb-1", track="cloud", start_date=start
    )
    zte_online = await make_cohort(
        session,
        capacity=50,
        code="zte-online-1",
        track="5g",
        centre_code="online",
        start_date=start,
    )
    alibaba = await make_cohort(
        session,
        capacity=50,
        code="ali-online-1",
        track="b2b",
        centre_code="online",
        programme_code="alibaba-ecommerce",
        start_date=date(2026, 1, 1),
    )
    people = {
        "A": await make_applicant(
            session,
            gender="female",
            province="punjab",
            district="Lahore",
            date_of_birth=date(2000, 1, 1),
        ),
        "B": await make_applicant(
            session,
            gender="male",
            province="sindh",
            district="Karachi",
            date_of_birth=date(1990, 6, 2),
        ),
        "C": await make_applicant(session, gender="male", province="kp", district="Peshawar"),
    }
    for name in "DEFGHIJ":
        people[name] = await make_applicant(
            session, gender="male", province="ict", district="Islamabad"
        )
    enrollments: dict[str, Enrollment] = {}
    certificates: dict[str, Certificate] = {}
    for key, cohort, who, ago in [
        ("A-isb", zte_isb, "A", 5),
        ("A-online", zte_online, "A", 2),
        ("A-ali", alibaba, "A", 3),
        ("B-isb", zte_isb, "B", 40),
        ("C-isb", zte_isb, "C", 1),
    ]:
        enrollments[key], certificates[key] = await complete(
            session, cohort, people[who], ago=ago, code=f"ZTE-TEST-{key.upper()}"
        )
    await session.execute(
        update(Certificate)
        .where(Certificate.id == certificates["C-isb"].id)
        .values(revoked_at=datetime.now(UTC), revoked_reason="issued in error")
    )
    for key, cohort, who, status in [
        ("D", zte_isb, "D", "enrolled"),
        ("E", zte_isb, "E", "waitlisted"),
        ("H", zte_isb, "H", "failed"),
        ("F", zte_online, "F", "withdrawn"),
        ("G", zte_online, "G", "dropped"),
        ("I", alibaba, "I", "enrolled"),
        ("J", alibaba, "J", "waitlisted"),
    ]:
        enrollments[key] = await make_enrollment(session, cohort, people[who], status=status)
    return World(
        today=datetime.now(UTC).date(),
        zte_isb=zte_isb,
        zte_online=zte_online,
        alibaba=alibaba,
        people=people,
        enrollments=enrollments,
        certificates=certificates,
    )


async def add_target(
    session: AsyncSession,
    code: str,
    *,
    metric: str,
    goal: int,
    programmes: list[str],
    deadline: date | None = None,
) -> Target:
    target = Target(
        code=code,
        name=code,
        goal=goal,
        metric=metric,
        deadline=deadline,
        programmes=[await programme(session, p) for p in programmes],
    )
    session.add(target)
    await session.flush()
    return target


async def commit_world(url: str) -> str:
    """Build the world in a real, committed database; return a reporter token."""
    from service.core.db import Database
    from tests.factories import make_key

    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            await build_world(session)
            token = await make_key(session, "reporter")
            await session.commit()
            return token
    finally:
        await db.dispose()
