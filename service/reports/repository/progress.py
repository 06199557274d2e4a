"""Progress: sums over the trigger-maintained counter tables, in one round trip."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import (
    Cohort,
    Enrollment,
    Programme,
    ReportProgrammeCount,
    ReportProgrammeDaily,
    ReportTargetCount,
    ReportTargetDaily,
    Target,
    target_programmes,
)
from service.seats.repository import offer_due


@dataclass
class Counters:
    """Sums over shards: programme_id -> metric -> n, and per-target trainees."""

    programme: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    programme_window: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    target_trainees: dict[str, int] = field(default_factory=dict)
    target_window: dict[str, int] = field(default_factory=dict)


async def programmes(session: AsyncSession) -> Sequence[Programme]:
    return (await session.scalars(select(Programme).order_by(Programme.code))).all()


async def targets(session: AsyncSession) -> list[tuple[Target, list[str]]]:
    """Each target (oldest first: the seeded commitment leads) with its programme ids."""
    rows = (await session.scalars(select(Target).order_by(Target.id))).all()
    links = (await session.execute(select(target_programmes))).all()
    by_target: dict[str, list[str]] = defaultdict(list)
    for target_id, programme_id in links:
        by_target[target_id].append(programme_id)
    return [(t, by_target[t.id]) for t in rows]


async def counters(session: AsyncSession, window_start: date) -> Counters:
    """Every counter the progress report needs, in one round trip (UNION ALL of four sums)."""
    p_all = select(
        literal("programme").label("kind"),
        ReportProgrammeCount.programme_id.label("owner"),
        ReportProgrammeCount.metric.label("metric"),
        func.sum(ReportProgrammeCount.n).label("n"),
    ).group_by(ReportProgrammeCount.programme_id, ReportProgrammeCount.metric)
    p_window = (
        select(
            literal("programme_window"),
            ReportProgrammeDaily.programme_id,
            ReportProgrammeDaily.metric,
            func.sum(ReportProgrammeDaily.n),
        )
        .where(ReportProgrammeDaily.day >= window_start)
        .group_by(ReportProgrammeDaily.programme_id, ReportProgrammeDaily.metric)
    )
    t_all = select(
        literal("target"), ReportTargetCount.target_id, literal(""), func.sum(ReportTargetCount.n)
    ).group_by(ReportTargetCount.target_id)
    t_window = (
        select(
            literal("target_window"),
            ReportTargetDaily.target_id,
            literal(""),
            func.sum(ReportTargetDaily.n),
        )
        .where(ReportTargetDaily.day >= window_start)
        .group_by(ReportTargetDaily.target_id)
    )
    out = Counters()
    rows = await session.execute(union_all(p_all, p_window, t_all, t_window))
    for kind, owner, metric, n in rows:
        value = int(n or 0)
        if kind == "programme":
            out.programme[owner][metric] = value
        elif kind == "programme_window":
            out.programme_window[owner][metric] = value
        elif kind == "target":
            out.target_trainees[owner] = value
        else:
            out.target_window[owner] = value
    return out


async def due_offers(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Offers expired at ``now`` but still stored as offered, per programme id: the
    counters count them as ``offered`` until the expiry is materialised (one range
    of a partial index; empty unless the sweep is behind)."""
    rows = await session.execute(
        select(Cohort.programme_id, func.count())
        .select_from(Enrollment)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(offer_due(now))
        .group_by(Cohort.programme_id)
    )
    return {programme_id: int(n) for programme_id, n in rows}
