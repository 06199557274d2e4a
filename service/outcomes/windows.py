"""Follow-up windows: when a 3m, 6m or 12m follow-up is due after a completion.

Days are whole UTC calendar days after the completion day: the 6m window of a
completion on 1 March is open from the 170th day after it (00:00 UTC) to the
end of the 210th. Reads compute from ``completed_at`` and now, so a window is
open at the instant it is due whether or not a job has run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from service.models.enums import FollowUp

# follow-up → (first day, last day) after the completion day, inclusive.
WINDOWS: dict[str, tuple[int, int]] = {
    FollowUp.m3.value: (80, 120),
    FollowUp.m6.value: (170, 210),
    FollowUp.m12.value: (350, 400),
}


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def last_completion_day_opened(follow_up: str, today: date) -> date:
    """The latest completion day whose window for ``follow_up`` has opened by ``today``."""
    return today - timedelta(days=WINDOWS[follow_up][0])


def open_range(follow_up: str, today: date) -> tuple[datetime, datetime]:
    """Completion times [from, to) whose ``follow_up`` window is open on ``today``."""
    first, last = WINDOWS[follow_up]
    return day_start(today - timedelta(days=last)), day_start(today - timedelta(days=first - 1))


def window_of(follow_up: str, completed_at: datetime) -> tuple[date, date]:
    """The first and last day of the window of a completion at ``completed_at``."""
    first, last = WINDOWS[follow_up]
    day = completed_at.astimezone(UTC).date()
    return day + timedelta(days=first), day + timedelta(days=last)
