"""The one clock background work reads: the system's, or one a test moves by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Protocol

from fastapi import Depends, Request

from service.models.base import utcnow


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()


class ManualClock:
    """A clock that moves only when told to (tests: no sleeps)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or utcnow()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now


def request_clock(request: Request) -> Clock:
    """The clock requests read: ``app.state.clock`` when a test sets one, else the system's."""
    clock: Clock | None = getattr(request.app.state, "clock", None)
    return clock or SystemClock()


ClockDep = Annotated[Clock, Depends(request_clock)]
