"""One page of the append-only completions feed (filled by triggers on certificates)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Certificate, Enrollment, ReportFeedEntry
from service.reports.repository.completions import completion_columns, joined


async def feed_page(
    session: AsyncSession, *, after: int, limit: int, centre_ids: frozenset[str] | None
) -> Sequence[Any]:
    """Up to ``limit`` entries after position ``after``, in position order; only
    ``centre_ids``' cohorts when given."""
    stmt = (
        select(
            ReportFeedEntry.position,
            ReportFeedEntry.kind,
            ReportFeedEntry.at,
            Certificate.revoked_at,
            Certificate.revoked_reason,
            *completion_columns(),
        )
        .select_from(ReportFeedEntry)
        .join(Certificate, Certificate.id == ReportFeedEntry.certificate_id)
        .join(Enrollment, Enrollment.id == ReportFeedEntry.enrollment_id)
    )
    stmt = (
        joined(stmt, centre_ids)
        .where(ReportFeedEntry.position > after)
        .order_by(ReportFeedEntry.position)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()
