"""Recompute every report counter from the base rows, in Python, to check the triggers."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.normalise import age_on
from service.models import (
    Applicant,
    Certificate,
    Cohort,
    Enrollment,
    ReportApplicantProgramme,
    ReportBreakdownCount,
    ReportProgrammeCount,
    ReportProgrammeDaily,
    ReportTargetCount,
    ReportTargetDaily,
    ReportTargetMember,
    target_programmes,
)

SEATED = ("enrolled", "completed", "failed")


def _day(value: datetime) -> date:
    return value.astimezone(UTC).date()


async def expected_counters(session: AsyncSession) -> dict[str, Any]:
    """What the counter tables must say, derived from enrollments and certificates."""
    programme_of = dict((await session.execute(select(Cohort.id, Cohort.programme_id))).all())
    enrollments = (
        await session.execute(
            select(
                Enrollment.id,
                Enrollment.cohort_id,
                Enrollment.applicant_id,
                Enrollment.status,
                Enrollment.created_at,
                Enrollment.completed_at,
            )
        )
    ).all()
    live_cert = {
        enrollment_id: issued_at
        for enrollment_id, issued_at in (
            await session.execute(
                select(Certificate.enrollment_id, Certificate.issued_at).where(
                    Certificate.revoked_at.is_(None)
                )
            )
        ).all()
    }
    counts: Counter[tuple[str, str]] = Counter()
    daily: Counter[tuple[str, date, str]] = Counter()
    applicants: dict[str, set[str]] = defaultdict(set)
    per_applicant: Counter[tuple[str, str]] = Counter()
    completions: list[tuple[str, str, date]] = []  # applicant, programme, day
    for e_id, cohort_id, applicant_id, status, created_at, completed_at in enrollments:
        programme = programme_of[cohort_id]
        counts[(programme, status)] += 1
        applicants[programme].add(applicant_id)
        per_applicant[(applicant_id, programme)] += 1
        if status in SEATED:
            daily[(programme, _day(created_at), "enrollments")] += 1
        if status == "completed" and e_id in live_cert:
            counts[(programme, "certified")] += 1
            day = _day(completed_at or live_cert[e_id])
            daily[(programme, day, "completions")] += 1
            completions.append((applicant_id, programme, day))
    for programme, people in applicants.items():
        counts[(programme, "applicants")] = len(people)
    target_progs: dict[str, set[str]] = defaultdict(set)
    for target_id, programme_id in (await session.execute(select(target_programmes))).all():
        target_progs[target_id].add(programme_id)
    members: dict[tuple[str, str], date] = {}
    for target_id, progs in target_progs.items():
        for applicant_id, programme, day in completions:
            if programme in progs:
                key = (target_id, applicant_id)
                members[key] = min(day, members.get(key, day))
    target_counts: Counter[str] = Counter(t for t, _ in members)
    target_daily: Counter[tuple[str, date]] = Counter((t, d) for (t, _), d in members.items())
    return {
        "counts": {k: v for k, v in counts.items() if v},
        "daily": {k: v for k, v in daily.items() if v},
        "applicant_programmes": {k: v for k, v in per_applicant.items() if v},
        "members": members,
        "target_counts": {k: v for k, v in target_counts.items() if v},
        "target_daily": {k: v for k, v in target_daily.items() if v},
    }


async def actual_counters(session: AsyncSession) -> dict[str, Any]:
    """What the trigger-maintained tables say, shards summed, zero rows dropped."""

    async def summed(stmt: Any) -> dict[Any, int]:
        out: dict[Any, int] = {}
        for *key, n in (await session.execute(stmt)).all():
            if n:
                out[tuple(key) if len(key) > 1 else key[0]] = int(n)
        return out

    c, d = ReportProgrammeCount, ReportProgrammeDaily
    t, td = ReportTargetCount, ReportTargetDaily
    ap = ReportApplicantProgramme
    return {
        "counts": await summed(
            select(c.programme_id, c.metric, func.sum(c.n)).group_by(c.programme_id, c.metric)
        ),
        "daily": await summed(
            select(d.programme_id, d.day, d.metric, func.sum(d.n)).group_by(
                d.programme_id, d.day, d.metric
            )
        ),
        "applicant_programmes": await summed(select(ap.applicant_id, ap.programme_id, ap.n)),
        "members": {
            (m.target_id, m.applicant_id): m.first_day
            for m in (await session.scalars(select(ReportTargetMember))).all()
        },
        "target_counts": await summed(select(t.target_id, func.sum(t.n)).group_by(t.target_id)),
        "target_daily": await summed(
            select(td.target_id, td.day, func.sum(td.n)).group_by(td.target_id, td.day)
        ),
    }


async def assert_counters_exact(session: AsyncSession) -> None:
    await session.flush()
    expected = await expected_counters(session)
    actual = await actual_counters(session)
    for name in expected:
        assert actual[name] == expected[name], name
    if session.get_bind().dialect.name == "postgresql":
        assert await actual_breakdown_counts(session) == await expected_breakdown_counts(session)


async def expected_breakdown_counts(session: AsyncSession) -> Counter[tuple[Any, ...]]:
    """``report_breakdown_counts`` recomputed in Python from the base rows."""
    rows = await session.execute(
        select(
            Enrollment.cohort_id,
            Enrollment.status,
            Enrollment.created_at,
            Enrollment.completed_at,
            Certificate.issued_at,
            Certificate.revoked_at,
            Applicant.province,
            Applicant.district,
            Applicant.gender,
            Applicant.date_of_birth,
            Cohort.start_date,
        )
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
        .outerjoin(Certificate, Certificate.enrollment_id == Enrollment.id)
    )
    out: Counter[tuple[Any, ...]] = Counter()
    for r in rows:
        who = (r.province, r.district, r.gender, age_on(r.date_of_birth, r.start_date))
        if r.status in SEATED:
            out[(r.cohort_id, "enrollments", _day(r.created_at), *who)] += 1
        if r.status == "completed" and r.issued_at is not None and r.revoked_at is None:
            done = r.completed_at or r.issued_at
            out[(r.cohort_id, "completions", _day(done), *who)] += 1
    return out


async def actual_breakdown_counts(session: AsyncSession) -> Counter[tuple[Any, ...]]:
    c = ReportBreakdownCount
    rows = await session.execute(
        select(c.cohort_id, c.metric, c.day, c.province, c.district, c.gender, c.age, c.n)
    )
    return Counter({tuple(r[:7]): int(r.n) for r in rows if r.n})
