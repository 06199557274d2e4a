"""The attendance a completion uses: the value given, else the percent computed from
the cohort's sessions (``service.attendance.percent``), the same figure the roster shows.

A given value overrides the computed one; the enrollment event's reason records both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from service.attendance import percent
from service.core.i18n import msg

# Also a bulk row's error (English there, as every row result).
MISSING = msg("attendance.required", "attendance is required")
NOT_COMPUTED = msg(
    "attendance.not_computed",
    "attendance is required: no percent can be computed yet (no session held, or every one "
    "excused)",
)


@dataclass(frozen=True, slots=True)
class Resolved:
    value: float | None
    computed: float | None
    tracked: bool  # the cohort has sessions
    error: str | None = None


async def computed_for(
    session: AsyncSession, cohort_id: str, enrollment_ids: list[str], today: date
) -> dict[str, float | None] | None:
    """Computed percents of these enrollments (one query), or None when the cohort has no
    sessions (attendance is then always given)."""
    if not await percent.cohort_has_sessions(session, cohort_id):
        return None
    found = await percent.figures(session, today, enrollment_ids=enrollment_ids)
    return {e: f.percent for e, f in found.items()}


def resolve(
    given: float | None, computed: dict[str, float | None] | None, enrollment_id: str
) -> Resolved:
    if computed is None:
        return Resolved(given, None, False, None if given is not None else MISSING)
    figure = computed.get(enrollment_id)
    if given is not None:
        return Resolved(given, figure, True)
    if figure is None:
        return Resolved(None, None, True, NOT_COMPUTED)
    return Resolved(figure, figure, True)


def _number(value: float) -> str:
    """72.0 → "72", 72.25 → "72.25" (exact, unlike %g)."""
    return str(int(value)) if value.is_integer() else repr(value)


def outcome_reason(score: float, attendance: float, computed: float | None = None) -> str:
    """``score 72, attendance 90``; with sessions, the computed figure beside it."""
    reason = f"score {_number(score)}, attendance {_number(attendance)}"
    if computed is None:
        return reason
    if computed == attendance:
        return f"{reason} (computed)"
    return f"{reason} (given; computed {_number(computed)})"
