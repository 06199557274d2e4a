"""What the dashboard shows, assembled from the report service (the one source of
the numbers ``/api/v1/reports/*`` answer) plus the weekly series and the cohort panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from service.attendance import summary as attendance
from service.attendance.summary import CohortToday
from service.core.auth import Actor
from service.core.scope import centre_in_scope
from service.dashboard import charts, repository
from service.dashboard import session as cookies
from service.models import ApiKey, Cohort
from service.models.base import utcnow
from service.models.enums import Role
from service.reports import service as reports
from service.reports.schemas import (
    BreakdownRow,
    Dimension,
    ExportRow,
    OutcomeReportRow,
    TargetProgress,
)
from service.seats import pools

SIGN_IN_ROLES = frozenset({Role.admin, Role.staff, Role.reporter})
COHORT_WINDOW_DAYS = 30
# The programme whose trainees' first exports the "After training" panel shows.
EXPORTS_PROGRAMME = "alibaba-ecommerce"
# The public page sees exactly what a reporter key sees: small counts suppressed.
PUBLIC_ACTOR = Actor(key_id="public", name="public", role=Role.reporter)

DIMENSION_TITLES: dict[str, str] = {
    "province": "province",
    "gender": "gender",
    "age_band": "age band (at cohort start)",
}


def actor_for(key: ApiKey) -> Actor:
    centres = frozenset(c.id for c in key.centres) if key.centres else None
    return Actor(key_id=key.id, name=key.name, role=Role(key.role), centre_ids=centres)


async def sign_in(
    session: AsyncSession, actor: Actor, *, secret: str, hours: float
) -> tuple[str, int]:
    """Open a server-side session for ``actor``; returns the cookie value and its lifetime."""
    lifetime = cookies.lifetime_seconds(hours)
    expires = int(utcnow().timestamp()) + lifetime
    session_id = await repository.open_session(
        session, key_id=actor.key_id, expires_at=datetime.fromtimestamp(expires, UTC)
    )
    return cookies.issue(secret, session_id, expires), lifetime


async def signed_in(session: AsyncSession, *, secret: str, cookie: str | None) -> Actor | None:
    """The actor of a live session whose cookie this is, or None."""
    claim = cookies.read(secret, cookie)
    if claim is None:
        return None
    key = await repository.session_key(session, claim.session_id, now=utcnow())
    if key is None or Role(key.role) not in SIGN_IN_ROLES:
        return None
    return actor_for(key)


async def sign_out(session: AsyncSession, *, secret: str, cookie: str | None) -> None:
    """End the session the cookie names (copies of the cookie stop working too)."""
    claim = cookies.read(secret, cookie)
    if claim is not None:
        await repository.end_session(session, claim.session_id)


@dataclass
class WeekPoint:
    week: date  # the Monday starting the week
    new: int
    cumulative: int
    pace: int | None  # on the straight line to the goal, when there is one


@dataclass
class TargetView:
    progress: TargetProgress
    behind: bool  # a deadline, and the current rate is short of the required one
    weeks: list[WeekPoint]
    pace_end: date | None
    chart: Markup


@dataclass
class BreakdownView:
    dimension: str
    title: str
    rows: list[BreakdownRow]
    chart: Markup


@dataclass
class CohortRow:
    code: str
    name: str
    programme: str
    track: str
    start_date: date
    capacity: int
    seats_taken: int
    seats_available: int
    waitlist_length: int
    offers_pending: int = 0
    offers_expiring: int = 0


@dataclass
class CentreCohorts:
    code: str
    name: str
    cohorts: list[CohortRow] = field(default_factory=list)


@dataclass
class AfterTraining:
    """Employment at the 6-month follow-up per programme, and the Alibaba first exports."""

    employment: list[OutcomeReportRow]
    exports: list[ExportRow]


@dataclass
class Dashboard:
    today: date
    targets: list[TargetView]
    breakdowns: list[BreakdownView]
    after_training: AfterTraining
    # None: the panel is not shown to this viewer at all.
    cohorts: list[CentreCohorts] | None
    cohort_window_end: date
    # Cohorts in progress: today's sessions marked or not, at-risk counts (staff, admin).
    attendance: list[CohortToday] | None = None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly(
    daily: Sequence[tuple[date, int]], *, goal: int, today: date, pace_end: date | None
) -> list[WeekPoint]:
    """Cumulative totals at each week from the first growth to this week.

    The pace line runs straight from 0 at the first week to ``goal`` at ``pace_end``.
    """
    if not daily:
        return []
    by_week: dict[date, int] = {}
    for day, n in daily:
        by_week[_monday(day)] = by_week.get(_monday(day), 0) + n
    start = min(by_week)
    last = max(_monday(today), max(by_week))
    span = (pace_end - start).days if pace_end is not None else 0
    points: list[WeekPoint] = []
    total = 0
    week = start
    while week <= last:
        total += by_week.get(week, 0)
        pace = None
        if pace_end is not None and span > 0:
            pace = min(goal, round(goal * (week - start).days / span))
        points.append(WeekPoint(week=week, new=by_week.get(week, 0), cumulative=total, pace=pace))
        week += timedelta(days=7)
    return points


async def _target_view(session: AsyncSession, target: TargetProgress, today: date) -> TargetView:
    target_id = await repository.target_id_by_code(session, target.code)
    programme_ids = await repository.programme_ids(session, target.programmes)
    daily = await repository.daily_growth(
        session, target_id=target_id or "", metric=target.metric, programme_ids=programme_ids
    )
    pace_end = target.deadline or target.projected_date
    weeks = weekly(daily, goal=target.goal, today=today, pace_end=pace_end)
    behind = (
        target.required_daily_rate is not None
        and target.achieved < target.goal
        and target.daily_rate < target.required_daily_rate
    )
    line = "deadline" if target.deadline else "projected date"
    chart = charts.cumulative_chart(
        f"{target.name}: cumulative {target.metric} by week",
        [w.week for w in weeks],
        [w.cumulative for w in weeks],
        [w.pace for w in weeks],
        achieved_name=f"Cumulative {target.metric}",
        pace_name=f"Straight line to {target.goal:,}"
        + (f" by {pace_end.isoformat()} ({line})" if pace_end else ""),
    )
    return TargetView(progress=target, behind=behind, weeks=weeks, pace_end=pace_end, chart=chart)


async def _breakdown_view(
    session: AsyncSession, actor: Actor, dimension: Dimension
) -> BreakdownView:
    result = await reports.breakdown(
        session,
        actor,
        dimension=dimension,
        metric="trainees",
        programme=None,
        date_from=None,
        date_to=None,
    )
    title = f"Trainees by {DIMENSION_TITLES[dimension]}"
    values = [(r.key, r.count if isinstance(r.count, int) else None) for r in result.rows]
    return BreakdownView(
        dimension=dimension,
        title=title,
        rows=result.rows,
        chart=charts.bar_chart(title, values, series="Trainees"),
    )


async def _cohort_panel(
    session: AsyncSession, actor: Actor, today: date, end: date
) -> list[CentreCohorts]:
    now = utcnow()
    rows = await repository.cohorts_starting(
        session,
        first=today,
        last=end,
        centre_ids=None if actor.role is Role.admin else actor.centre_ids,
        now=now,
    )
    # Free seats of pools not yet released are not open seats: the panel leaves them out
    # of seats available, as the API's seats_available does.
    pooled = await pools.views_of(session, rows, now)
    reserved = {cohort_id: sum(v.available for v in views) for cohort_id, views in pooled.items()}
    centres: dict[str, CentreCohorts] = {}
    for row in rows:
        group = centres.setdefault(
            row.centre_code, CentreCohorts(code=row.centre_code, name=row.centre_name)
        )
        group.cohorts.append(
            CohortRow(
                code=row.code,
                name=row.name,
                programme=row.programme,
                track=row.track,
                start_date=row.start_date,
                capacity=row.capacity,
                # Offers expired by now hold no seat, materialised or not.
                seats_taken=row.seats_taken - row.due_offers,
                seats_available=max(
                    row.capacity - row.seats_taken + row.due_offers - reserved.get(row.id, 0), 0
                ),
                waitlist_length=row.waitlist_length,
                offers_pending=row.offers_pending,
                offers_expiring=row.offers_expiring,
            )
        )
    return list(centres.values())


async def dashboard(
    session: AsyncSession,
    actor: Actor,
    *,
    reporting: AsyncSession,
    public: bool = False,
    now: datetime | None = None,
) -> Dashboard:
    """Everything one page shows, for what ``actor`` may see.

    ``reporting`` is the session the report endpoints read from (a read replica when
    one is configured), so the page and ``/api/v1/reports/*`` show the same numbers;
    the cohort panel is operational and reads the primary ``session``.
    ``public``: the transparency page (aggregates only, no age band, no cohorts).
    """
    today = reports.today()
    progress = await reports.progress(reporting)
    targets = [await _target_view(reporting, t, today) for t in progress.targets]
    dimensions: list[Dimension] = (
        ["province", "gender"]
        if public
        else [
            "province",
            "gender",
            "age_band",
        ]
    )
    breakdowns = [await _breakdown_view(reporting, actor, d) for d in dimensions]
    after = AfterTraining(
        employment=(
            await reports.outcomes(
                reporting, actor, follow_up="6m", dimension="programme", programme=None
            )
        ).rows,
        exports=await reports.first_exports(reporting, actor, programme=EXPORTS_PROGRAMME),
    )
    end = today + timedelta(days=COHORT_WINDOW_DAYS)
    cohorts = (
        await _cohort_panel(session, actor, today, end)
        if actor.is_staff_or_admin and not public
        else None
    )
    panel = (
        await attendance.in_progress(
            session, (now or utcnow()).date(), centre_in_scope(actor, Cohort.centre_id)
        )
        if cohorts is not None
        else None
    )
    return Dashboard(
        today=today,
        targets=targets,
        breakdowns=breakdowns,
        after_training=after,
        cohorts=cohorts,
        cohort_window_end=end,
        attendance=panel,
    )
