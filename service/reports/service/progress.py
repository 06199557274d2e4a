"""Progress against every target, and enrollment counts per programme."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.reports.repository import outcomes
from service.reports.repository import progress as repository
from service.reports.repository.expressions import SEATED
from service.reports.schemas import ProgrammeProgress, Progress, TargetProgress

WINDOW_DAYS = 30


def today() -> date:
    return datetime.now(UTC).date()


def _projection(
    goal: int, achieved: int, growth: int, deadline: date | None, now: date
) -> tuple[float, date | None, float | None]:
    remaining = max(goal - achieved, 0)
    daily_rate = growth / WINDOW_DAYS
    projected: date | None = None
    if remaining > 0 and growth > 0:
        # remaining / (growth / 30) days, rounded up, in exact integer arithmetic.
        days = -(-remaining * WINDOW_DAYS // growth)
        try:
            projected = now + timedelta(days=days)
        except OverflowError:  # beyond year 9999
            projected = None
    required: float | None = None
    if deadline is not None:
        days_left = (deadline - now).days
        # On or after the deadline, everything left is needed at once.
        required = remaining / days_left if days_left > 0 else float(remaining)
    return daily_rate, projected, required


async def employed(
    session: AsyncSession, programme_ids: Sequence[str], window_start: date
) -> tuple[int, int]:
    """Employed trainees now, and how many more than before the 30-day window."""
    now = await outcomes.employed_trainees(session, programme_ids)
    before = await outcomes.employed_trainees(
        session, programme_ids, recorded_before=datetime.combine(window_start, time.min, UTC)
    )
    return now, now - before


async def progress(session: AsyncSession) -> Progress:
    now = today()
    window_start = now - timedelta(days=WINDOW_DAYS - 1)
    counts = await repository.counters(session, window_start)
    due = await repository.due_offers(session, datetime.now(UTC))
    programmes = await repository.programmes(session)
    code_of = {p.id: p.code for p in programmes}

    def total(programme_ids: Sequence[str], *metrics: str) -> int:
        return sum(counts.programme[p].get(m, 0) for p in programme_ids for m in metrics)

    def window(programme_ids: Sequence[str], metric: str) -> int:
        return sum(counts.programme_window[p].get(metric, 0) for p in programme_ids)

    targets: list[TargetProgress] = []
    for target, programme_ids in await repository.targets(session):
        completions_30 = window(programme_ids, "completions")
        if target.metric == "trainees":
            achieved = counts.target_trainees.get(target.id, 0)
            growth = counts.target_window.get(target.id, 0)
        elif target.metric == "employed":
            achieved, growth = await employed(session, programme_ids, window_start)
        elif target.metric == "completions":
            achieved = total(programme_ids, "certified")
            growth = completions_30
        else:
            achieved = total(programme_ids, *SEATED)
            growth = window(programme_ids, "enrollments")
        daily_rate, projected, required = _projection(
            target.goal, achieved, growth, target.deadline, now
        )
        targets.append(
            TargetProgress(
                code=target.code,
                name=target.name,
                goal=target.goal,
                metric=target.metric,  # type: ignore[arg-type]
                programmes=sorted(code_of[p] for p in programme_ids if p in code_of),
                deadline=target.deadline,
                achieved=achieved,
                percent=round(achieved / target.goal * 100, 2),
                in_training=total(programme_ids, "enrolled"),
                waitlisted=total(programme_ids, "waitlisted"),
                completions_last_30_days=completions_30,
                daily_rate=daily_rate,
                projected_date=projected,
                required_daily_rate=required,
            )
        )
    rows = [
        ProgrammeProgress(
            code=p.code,
            applicants=total([p.id], "applicants"),
            enrolled=total([p.id], "enrolled"),
            waitlisted=total([p.id], "waitlisted"),
            completed=total([p.id], "certified"),
            failed=total([p.id], "failed"),
            dropped=total([p.id], "dropped"),
            withdrawn=total([p.id], "withdrawn"),
            cancelled=total([p.id], "cancelled"),
            # An offer is expired from its offer_expires_at, materialised or not.
            offered=total([p.id], "offered") - due.get(p.id, 0),
            declined=total([p.id], "declined"),
            expired=total([p.id], "expired") + due.get(p.id, 0),
            no_show=total([p.id], "no_show"),
        )
        for p in programmes
    ]
    return Progress(targets=targets, programmes=rows)
