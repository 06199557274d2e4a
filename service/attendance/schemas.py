"""Request and response bodies of attendance: sessions, marks, percents."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.core.i18n import msg
from service.core.validation_messages import MessageError
from service.models.enums import AttendanceStatus

MAX_SESSIONS = 500
Topic = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date = Field(description="The session's date, within the cohort's dates.")
    topic: Topic | None = None


class SessionsCreate(BaseModel):
    """One session (``date``, ``topic``) or many (``sessions``), not both."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date | None = Field(default=None, description="One session's date.")
    topic: Topic | None = None
    sessions: list[SessionCreate] | None = Field(
        default=None, min_length=1, max_length=MAX_SESSIONS, description="Many sessions at once."
    )

    @model_validator(mode="after")
    def _one_form(self) -> SessionsCreate:
        if self.sessions is not None and (self.date is not None or self.topic is not None):
            raise MessageError(
                msg("sessions.not_both", "Send either date (and topic) or sessions, not both.")
            )
        if self.sessions is None and self.date is None:
            raise MessageError(
                msg("sessions.date_required", "date is required (or sessions, for many).")
            )
        return self

    def items(self) -> list[SessionCreate]:
        if self.sessions is not None:
            return self.sessions
        assert self.date is not None  # noqa: S101 - the validator guarantees it
        return [SessionCreate(date=self.date, topic=self.topic)]


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    cohort_id: str
    date: dt.date
    topic: str | None
    marked: int = Field(description="How many enrollments have a mark at this session.")
    created_at: dt.datetime


class SessionBatch(BaseModel):
    """The sessions a bulk create made, in request order."""

    items: list[SessionRead]


class SessionList(BaseModel):
    items: list[SessionRead]


class MarkResult(BaseModel):
    """The outcome of one row of a marking request."""

    row: int = Field(description="1-based index in the JSON array; for CSV, the line number.")
    status: Literal["present", "late", "excused", "absent", "error"]
    enrollment_id: str | None = None
    previous: AttendanceStatus | None = Field(
        default=None, description="The mark this row replaced (null for a first mark)."
    )
    error: str | None = None


class MarkResults(BaseModel):
    results: list[MarkResult]


class SessionMark(BaseModel):
    session_id: str
    date: dt.date
    status: AttendanceStatus | None = Field(description="null: not marked (counts as absent).")


class EnrollmentAttendance(BaseModel):
    enrollment_id: str
    cohort_id: str
    percent: float | None = Field(
        description="(present + late) / (sessions held − excused) × 100, 2 decimals."
    )
    sessions_held: int
    attended: int
    excused: int
    sessions: list[SessionMark] = Field(description="Sessions dated today or earlier (UTC).")


class RosterRow(BaseModel):
    enrollment_id: str
    applicant_id: str
    percent: float | None
    sessions_held: int
    attended: int
    excused: int
    at_risk: bool = Field(
        description="Below the cohort's min_attendance with at least 3 sessions held."
    )


class Roster(BaseModel):
    cohort_id: str
    min_attendance: int
    sessions_held: int
    items: list[RosterRow]
    next_cursor: str | None


class AttendanceReportRow(BaseModel):
    key: str = Field(description="Cohort code or centre code.")
    trainees: int | Literal["<5"] = Field(
        description="Trainees counted (enrolled, completed, failed) in cohorts with sessions."
    )
    average_percent: float | None = Field(
        description="Mean of their percents; null for a reporter when under 5 trainees."
    )
    at_risk: int | Literal["<5"] = Field(
        description="Enrolled trainees below min_attendance with at least 3 sessions held."
    )


class AttendanceReport(BaseModel):
    group: Literal["cohort", "centre"]
    rows: list[AttendanceReportRow]
