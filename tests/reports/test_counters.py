"""The trigger-maintained counters stay exact under every kind of write, on both databases."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Applicant, Certificate, Cohort, Enrollment, Target, target_programmes
from service.models.enums import EnrollmentStatus
from tests.factories import (
    make_applicant,
    make_certificate,
    make_cohort,
    make_enrollment,
    programme,
)
from tests.reports.helpers import assert_counters_exact

STATUSES = [s.value for s in EnrollmentStatus]


async def test_counters_reconcile_after_random_mix(session: AsyncSession) -> None:
    rng = random.Random(20261128)
    cohorts = [
        await make_cohort(session, capacity=500, programme_code=code)
        for code in ("zte-ict", "zte-ict", "zte-ict", "alibaba-ecommerce", "alibaba-ecommerce")
    ]
    people = [await make_applicant(session) for _ in range(25)]
    # One enrollment per (cohort, applicant): the live-enrollment index stays happy
    # whatever statuses the bulk updates below pick.
    free_pairs = [(c, a) for c in cohorts for a in people]
    rng.shuffle(free_pairs)
    enrollments: list[Enrollment] = []

    async def enrol() -> None:
        cohort, applicant = free_pairs.pop()
        enrollments.append(
            await make_enrollment(session, cohort, applicant, status=rng.choice(STATUSES))
        )

    for _ in range(60):
        await enrol()
    await assert_counters_exact(session)

    # A target over both programmes, created after the rows exist, is rebuilt.
    both = Target(code="both-x", name="Both", goal=50, metric="trainees")
    session.add(both)
    await session.flush()
    for code in ("zte-ict", "alibaba-ecommerce"):
        await session.execute(
            insert(target_programmes).values(
                target_id=both.id, programme_id=(await programme(session, code)).id
            )
        )
    await assert_counters_exact(session)

    now = datetime.now(UTC)
    for step in range(12):
        ids = [e.id for e in rng.sample(enrollments, 15)]
        action = step % 6
        if action == 0:  # bulk status transitions
            await session.execute(
                update(Enrollment).where(Enrollment.id.in_(ids)).values(status=rng.choice(STATUSES))
            )
        elif action == 1:  # bulk completions, then certificates for some of them
            await session.execute(
                update(Enrollment)
                .where(Enrollment.id.in_(ids))
                .values(status="completed", completed_at=now - timedelta(days=rng.randrange(60)))
            )
            have = set((await session.scalars(select(Certificate.enrollment_id))).all())
            for e_id in ids[:10]:
                if e_id not in have:
                    cert = Certificate(
                        enrollment_id=e_id,
                        code=f"ZTE-{rng.randrange(16**12):012X}",
                        issued_at=now - timedelta(days=rng.randrange(60)),
                    )
                    session.add(cert)
            await session.flush()
        elif action == 2:  # revocations
            await session.execute(
                update(Certificate)
                .where(Certificate.enrollment_id.in_(ids))
                .values(revoked_at=now, revoked_reason="audit")
            )
        elif action == 3:  # un-revocations and re-dated completions
            await session.execute(
                update(Certificate)
                .where(Certificate.enrollment_id.in_(ids[:5]))
                .values(revoked_at=None, revoked_reason=None)
            )
            await session.execute(
                update(Enrollment)
                .where(Enrollment.id.in_(ids[5:]))
                .values(completed_at=now - timedelta(days=rng.randrange(90)))
            )
        elif action == 4:  # inserts into several cohorts
            for _ in range(10):
                await enrol()
        else:  # enrollments moved to another cohort, and deleted
            for e_id in ids[:3]:
                cohort, applicant = free_pairs.pop()
                await session.execute(
                    update(Enrollment)
                    .where(Enrollment.id == e_id)
                    .values(cohort_id=cohort.id, applicant_id=applicant.id)
                )
            with_cert = set((await session.scalars(select(Certificate.enrollment_id))).all())
            doomed = [i for i in ids[3:8] if i not in with_cert]
            await session.execute(delete(Enrollment).where(Enrollment.id.in_(doomed)))
            enrollments = [e for e in enrollments if e.id not in doomed]
        await assert_counters_exact(session)

    # What moves only the breakdown counts: an applicant's attributes, a cohort's start date.
    for step in range(6):
        who = rng.sample(people, 4)
        if step % 2 == 0:
            await session.execute(
                update(Applicant)
                .where(Applicant.id.in_([a.id for a in who]))
                .values(province=rng.choice(["sindh", "kp", "ict"]), district=f"D{step}")
            )
            await session.execute(
                update(Applicant)
                .where(Applicant.id == who[0].id)
                .values(gender="transgender", date_of_birth=date(1990 + step, 6, 15))
            )
        else:
            moved = rng.choice(cohorts)
            await session.execute(
                update(Cohort)
                .where(Cohort.id == moved.id)
                .values(start_date=date(2020 - step, 1 + step, 1 + step))
            )
        await assert_counters_exact(session)

    # The mix did produce trainees, revocations and completions in and out of the window.
    assert await session.scalar(text("SELECT count(*) FROM report_target_members")) > 5
    assert await session.scalar(
        text("SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL")
    )
    # Dropping a programme from the target rebuilds it; so does deleting the target.
    await session.execute(
        delete(target_programmes).where(
            target_programmes.c.target_id == both.id,
            target_programmes.c.programme_id == (await programme(session, "zte-ict")).id,
        )
    )
    await assert_counters_exact(session)
    await session.execute(delete(Target).where(Target.id == both.id))
    await assert_counters_exact(session)


async def test_certificate_before_status_counts_once(session: AsyncSession) -> None:
    """Whatever order a completion's two writes come in, it is counted once."""
    cohort = await make_cohort(session)
    first = await make_enrollment(session, cohort)
    await make_certificate(session, first)
    await session.execute(
        update(Enrollment).where(Enrollment.id == first.id).values(status="completed")
    )
    await assert_counters_exact(session)
    assert (
        await session.scalar(
            text("SELECT sum(n) FROM report_programme_counts WHERE metric = 'certified'")
        )
        == 1
    )
