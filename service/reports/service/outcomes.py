"""Outcomes after training by one dimension: response and employment rates.

``completers`` are live completions whose window for the follow-up has opened
by today (``outcomes.windows``: whole UTC days after the completion day);
``responses`` the outcomes recorded for them. Reporters get counts under 5 as
"<5" and no rate built on one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import ValidationFailed
from service.core.i18n import msg
from service.models.enums import Role
from service.outcomes.windows import last_completion_day_opened
from service.reports.repository import outcomes as repository
from service.reports.schemas import (
    Count,
    ExportRow,
    OutcomeDimension,
    OutcomeReport,
    OutcomeReportRow,
)
from service.reports.service.breakdown import SUPPRESS_BELOW


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole * 100, 2)


async def outcomes(
    session: AsyncSession,
    actor: Actor,
    *,
    follow_up: str,
    dimension: OutcomeDimension,
    programme: str | None,
) -> OutcomeReport:
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
    query = repository.OutcomeQuery(
        follow_up=follow_up,
        dimension=dimension,
        last_day=last_completion_day_opened(follow_up, datetime.now(UTC).date()),
        programme_id=programme_id,
        centre_ids=actor.centre_ids if actor.role is Role.staff else None,
    )
    counts = await repository.outcome_counts(session, session.get_bind().dialect.name, query)
    suppress = actor.role is Role.reporter

    def shown(n: int) -> Count:
        return "<5" if suppress and n < SUPPRESS_BELOW else n

    def shown_rate(part: int, whole: int) -> float | None:
        if suppress and (part < SUPPRESS_BELOW or whole < SUPPRESS_BELOW):
            return None
        return rate(part, whole)

    rows: list[OutcomeReportRow] = []
    for key in sorted(set(counts.completers) | set(counts.statuses)):
        statuses = counts.statuses.get(key, {})
        completers = counts.completers.get(key, 0)
        responses = sum(statuses.values())
        employed = sum(statuses.get(s, 0) for s in repository.EMPLOYED)
        reached = responses - statuses.get("unreachable", 0)
        if not completers and not responses:
            continue
        rows.append(
            OutcomeReportRow(
                key=key,
                completers=shown(completers),
                responses=shown(responses),
                response_rate=shown_rate(responses, completers),
                employed=shown(employed),
                employment_rate=shown_rate(employed, reached),
                statuses={s: shown(n) for s, n in sorted(statuses.items()) if n},
                income_bands={
                    b: shown(n) for b, n in sorted(counts.bands.get(key, {}).items()) if n
                },
            )
        )
    return OutcomeReport(follow_up=follow_up, dimension=dimension, rows=rows)  # type: ignore[arg-type]


async def first_exports(session: AsyncSession, actor: Actor, *, programme: str) -> list[ExportRow]:
    """Online stores and export orders reported at each follow-up (dashboard panel)."""
    found = await repository.programme_by_code(session, programme)
    if found is None:
        return []
    scope = actor.centre_ids if actor.role is Role.staff else None
    suppress = actor.role is Role.reporter

    def shown(n: int) -> Count:
        return "<5" if suppress and n < SUPPRESS_BELOW else n

    order = {"3m": 0, "6m": 1, "12m": 2}
    rows = sorted(await repository.exports(session, found.id, scope), key=lambda r: order[r[0]])
    return [
        ExportRow(
            follow_up=follow_up,  # type: ignore[arg-type]
            responses=shown(responses),
            online_stores=shown(stores),
            exporters=shown(exporters),
            export_orders=shown(orders) if exporters >= SUPPRESS_BELOW or not suppress else "<5",
            export_value_usd=(None if suppress and exporters < SUPPRESS_BELOW else round(value, 2)),
        )
        for follow_up, responses, stores, exporters, orders, value in rows
    ]
