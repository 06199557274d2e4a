"""The SQL the dashboard needs beyond the report service: browser sessions, the
weekly series behind the cumulative chart, and the cohorts starting soon.

Totals, rates and breakdowns come from ``service.reports.service``; the weekly
series reads the same trigger-maintained daily counters that the progress
report's 30-day rate reads, so the chart's last point equals ``achieved``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.models import (
    ApiKey,
    Centre,
    Cohort,
    DashboardSession,
    Enrollment,
    Programme,
    ReportProgrammeDaily,
    ReportTargetDaily,
    Target,
)
from service.seats.repository import due_count


async def open_session(session: AsyncSession, *, key_id: str, expires_at: datetime) -> str:
    """Record a signed-in browser; returns the session id the cookie will name."""
    row = DashboardSession(api_key_id=key_id, expires_at=expires_at)
    session.add(row)
    await session.flush()
    return row.id


async def session_key(session: AsyncSession, session_id: str, *, now: datetime) -> ApiKey | None:
    """The live (unrevoked) API key of an unexpired session, or None."""
    key: ApiKey | None = await session.scalar(
        select(ApiKey)
        .join(DashboardSession, DashboardSession.api_key_id == ApiKey.id)
        .where(
            DashboardSession.id == session_id,
            DashboardSession.expires_at > now,
            ApiKey.revoked_at.is_(None),
        )
        .options(selectinload(ApiKey.centres))
    )
    return key


async def end_session(session: AsyncSession, session_id: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.id == session_id))


async def purge_expired_sessions(session: AsyncSession, *, now: datetime) -> int:
    """Delete sessions whose cookie has expired; returns how many."""
    result = await session.execute(
        delete(DashboardSession).where(DashboardSession.expires_at <= now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def target_id_by_code(session: AsyncSession, code: str) -> str | None:
    found: str | None = await session.scalar(select(Target.id).where(Target.code == code))
    return found


async def daily_growth(
    session: AsyncSession, *, target_id: str, metric: str, programme_ids: Sequence[str]
) -> list[tuple[date, int]]:
    """(day, growth of the target's metric that day), oldest first, from the counters."""
    if metric == "trainees":
        stmt: Any = (
            select(ReportTargetDaily.day, func.sum(ReportTargetDaily.n))
            .where(ReportTargetDaily.target_id == target_id)
            .group_by(ReportTargetDaily.day)
            .order_by(ReportTargetDaily.day)
        )
    else:
        stmt = (
            select(ReportProgrammeDaily.day, func.sum(ReportProgrammeDaily.n))
            .where(
                ReportProgrammeDaily.programme_id.in_(programme_ids),
                ReportProgrammeDaily.metric == metric,
            )
            .group_by(ReportProgrammeDaily.day)
            .order_by(ReportProgrammeDaily.day)
        )
    rows = (await session.execute(stmt)).all()
    return [(day, int(n or 0)) for day, n in rows]


async def programme_ids(session: AsyncSession, codes: Sequence[str]) -> list[str]:
    rows = await session.scalars(select(Programme.id).where(Programme.code.in_(codes)))
    return list(rows)


def _offers(now: datetime, until: datetime | None = None) -> Any:
    """Correlated count of a cohort's offers pending at ``now`` (expiring by ``until``)."""
    window = [Enrollment.offer_expires_at > now]
    if until is not None:
        window.append(Enrollment.offer_expires_at <= until)
    return (
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.cohort_id == Cohort.id, Enrollment.status == "offered", *window)
        .correlate(Cohort)
        .scalar_subquery()
    )


async def cohorts_starting(
    session: AsyncSession,
    *,
    first: date,
    last: date,
    centre_ids: frozenset[str] | None,
    now: datetime,
) -> Sequence[Any]:
    """Open cohorts starting between ``first`` and ``last``, and every open or
    in-progress cohort with offers pending at ``now`` (a no-show or a withdrawal
    after the start offers seats too), by centre then start date, with their offers
    pending, those expiring within 24 hours, and the offers already due (which no
    longer hold a seat)."""
    pending = (
        exists()
        .where(
            Enrollment.cohort_id == Cohort.id,
            Enrollment.status == "offered",
            Enrollment.offer_expires_at > now,
        )
        .correlate(Cohort)
    )
    stmt = (
        select(
            Centre.code.label("centre_code"),
            Centre.name.label("centre_name"),
            Cohort.code,
            Cohort.name,
            Programme.code.label("programme"),
            Cohort.track,
            Cohort.start_date,
            Cohort.capacity,
            Cohort.seats_taken,
            Cohort.waitlist_length,
            Cohort.id,
            Cohort.status,
            Cohort.pool_count,
            due_count(now).label("due_offers"),
            _offers(now).label("offers_pending"),
            _offers(now, now + timedelta(hours=24)).label("offers_expiring"),
        )
        .join(Centre, Centre.id == Cohort.centre_id)
        .join(Programme, Programme.id == Cohort.programme_id)
        .where(
            or_(
                and_(
                    Cohort.status == "open",
                    Cohort.start_date >= first,
                    Cohort.start_date <= last,
                ),
                and_(Cohort.status.in_(("open", "in_progress")), pending),
            )
        )
        .order_by(Centre.code, Cohort.start_date, Cohort.code)
    )
    if centre_ids is not None:
        stmt = stmt.where(Cohort.centre_id.in_(centre_ids))
    return (await session.execute(stmt)).all()
