"""What the staff console's roster page shows: one session's roster, by name, with
each trainee's current mark (the form's default) and percent (``percent.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from service.attendance import percent, repository
from service.attendance.service import session_not_found
from service.core.auth import Actor
from service.models import AttendanceSession, Cohort
from service.seats import service as seats


@dataclass(frozen=True, slots=True)
class RosterLine:
    enrollment_id: str
    name: str
    status: str | None
    percent: float | None
    at_risk: bool


@dataclass(frozen=True, slots=True)
class SessionRoster:
    session: AttendanceSession
    cohort: Cohort
    held: bool  # dated today or earlier: it may be marked
    lines: list[RosterLine]


async def session_roster(
    session: AsyncSession, actor: Actor, session_id: str, *, today: date
) -> SessionRoster:
    found = await repository.find_session(session, session_id)
    if found is None:
        raise session_not_found()
    cohort = await repository.cohort(session, found.cohort_id)
    if cohort is None:
        raise seats.cohort_not_found()
    seats.check_centre(actor, cohort.centre_id)
    figures = await percent.figures(session, today, cohort_id=cohort.id)
    lines = []
    for enrollment_id, name, status in await repository.roster_names(session, cohort.id, found.id):
        figure = figures.get(enrollment_id)
        lines.append(
            RosterLine(
                enrollment_id=enrollment_id,
                name=name,
                status=status,
                percent=figure.percent if figure else None,
                at_risk=bool(figure and figure.at_risk(cohort.min_attendance)),
            )
        )
    return SessionRoster(found, cohort, found.date <= today, lines)
