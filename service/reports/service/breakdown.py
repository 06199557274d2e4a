"""Counts grouped by one dimension; small counts suppressed for reporters."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import ValidationFailed
from service.core.i18n import msg
from service.models.enums import Role
from service.reports.repository import breakdown as repository
from service.reports.schemas import Breakdown, BreakdownRow, Dimension, Metric

SUPPRESS_BELOW = 5


async def breakdown(
    session: AsyncSession,
    actor: Actor,
    *,
    dimension: Dimension,
    metric: Metric,
    programme: str | None,
    date_from: date | None,
    date_to: date | None,
) -> Breakdown:
    programme_id: str | None = None
    if programme:
        found = await repository.programme_by_code(session, programme)
        if found is None:
            raise ValidationFailed(
                {
                    "programme": msg(
                        "programme.no_such_code",
                        "No programme with code '{code}'.",
                        code=programme,
                    )
                }
            )
        programme_id = found.id
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed({"from": msg("from.after_to", "Must not be after 'to'.")})
    dialect = session.get_bind().dialect.name
    query = repository.BreakdownQuery(dimension, metric, programme_id, date_from, date_to)
    rows = await repository.breakdown(session, dialect, query)
    suppress = actor.role is Role.reporter
    return Breakdown(
        dimension=dimension,
        metric=metric,
        rows=[
            BreakdownRow(key=key, count="<5" if suppress and n < SUPPRESS_BELOW else n)
            for key, n in rows
        ],
    )
