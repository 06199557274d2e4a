from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.models.enums import EnrollmentStatus


class EnrollmentRead(BaseModel):
    """An enrollment as every endpoint returns it (create, read, list, actions)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    cohort_id: str
    applicant_id: str
    status: EnrollmentStatus
    # The code of the reserved-seat pool whose seat is held (or offered); null for an
    # open seat and while waitlisted.
    pool: str | None = Field(
        None,
        description="Code of the reserved-seat pool whose seat this enrollment holds or is "
        "offered; null for an open seat (and while waitlisted).",
    )
    # 1..n while waitlisted, else null.
    waitlist_position: int | None = None
    score: float | None = None
    attendance: float | None = None
    completed_at: datetime | None = None
    # Set when a seat is offered (offer-mode cohorts): the offer is expired from this
    # instant on (inclusive). Kept afterwards as the record of the offer's window.
    offer_expires_at: datetime | None = None
    # Set when status is completed (and the certificate not revoked or revoked: see certificate).
    certificate_code: str | None = None
    created_at: datetime
    updated_at: datetime


class EnrollmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    applicant_id: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]


class ReasonBody(BaseModel):
    """Optional body of /withdraw, /drop, /decline and /no-show; the reason is kept on
    the event."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class EventRead(BaseModel):
    """One status change. JSON keys: from, to, actor, at, reason."""

    model_config = ConfigDict(populate_by_name=True)

    from_: EnrollmentStatus | None = Field(alias="from")
    to: EnrollmentStatus
    actor: str
    at: datetime
    reason: str | None


class EventList(BaseModel):
    items: list[EventRead]
