"""Request and response bodies of completions and certificates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from service.core.i18n import msg
from service.core.validation_messages import MessageError

# A percentage: a JSON number (not a string or boolean) from 0 to 100.
Percent = Annotated[float, Field(ge=0, le=100, strict=True, allow_inf_nan=False)]


class CompleteRequest(BaseModel):
    score: Percent = Field(description="Final score, 0-100.")
    attendance: Percent = Field(description="Attendance in percent, 0-100.")


class CompletionResult(BaseModel):
    """The outcome of one row of a bulk completion request."""

    row: int = Field(description="1-based index in the JSON array; for CSV, the line number.")
    status: Literal["completed", "failed", "error"]
    enrollment_id: str | None = None
    certificate_code: str | None = None
    error: str | None = None


class CompletionResults(BaseModel):
    results: list[CompletionResult]


class RevokeRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Why, shown to verifiers.")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise MessageError(msg("reason.blank", "The reason must not be blank."))
        return value


class CertificateRead(BaseModel):
    """The full certificate record (staff and admin)."""

    code: str
    enrollment_id: str
    applicant_id: str
    cohort_id: str
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


class CertificateVerification(BaseModel):
    """What anyone holding the code may learn: no CNIC, contact details or score."""

    code: str
    holder_name: str
    programme: str = Field(description="Programme code, e.g. zte-ict.")
    programme_name: str
    partner: str
    track: str
    cohort: str = Field(description="Cohort code.")
    cohort_name: str
    completed_at: datetime | None
    issued_at: datetime
