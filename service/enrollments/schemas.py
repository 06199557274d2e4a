from datetime import datetime

from pydantic import BaseModel, ConfigDict

from service.models.enums import EnrollmentStatus


class EnrollmentRead(BaseModel):
    """An enrollment as every endpoint returns it (create, read, list, actions)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    cohort_id: str
    applicant_id: str
    status: EnrollmentStatus
    # 1..n while waitlisted, else null.
    waitlist_position: int | None = None
    score: float | None = None
    attendance: float | None = None
    completed_at: datetime | None = None
    # Set when status is completed (and the certificate not revoked or revoked: see certificate).
    certificate_code: str | None = None
    created_at: datetime
    updated_at: datetime
