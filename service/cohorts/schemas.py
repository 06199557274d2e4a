from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.core.fields import IsoDate
from service.models.enums import CohortMode, CohortStatus, WaitlistMode

Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Track = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# strict: a JSON integer only (lax mode would take `true` as 1 and "50" as 50).
Capacity = Annotated[int, Field(gt=0, le=100_000, strict=True, description="Seats; > 0.")]
Age = Annotated[int, Field(ge=0, le=120, strict=True)]
Percent = Annotated[int, Field(ge=0, le=100, strict=True)]
OfferHours = Annotated[
    int,
    Field(ge=1, le=168, strict=True, description="Hours an offered seat waits for an answer."),
]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class CohortCreate(Schema):
    programme: Code = Field(description="Programme code, e.g. zte-ict.")
    centre: Code = Field(description="Centre code, e.g. isb-gitc.")
    code: Code = Field(description="Unique cohort code: lower-case letters, digits and dashes.")
    name: Name
    track: Track
    start_date: IsoDate
    end_date: IsoDate = Field(description="On or after start_date.")
    capacity: Capacity
    mode: CohortMode
    min_age: Age = 18
    max_age: Age = 35
    pass_score: Percent = 50
    min_attendance: Percent = Field(75, description="Percent of sessions attended to pass.")
    waitlist_mode: WaitlistMode = Field(
        WaitlistMode.auto,
        description="What a freed seat becomes: the waitlist's head enrolled at once (auto) "
        "or offered for offer_hours (offer).",
    )
    offer_hours: OfferHours = 48


class CohortUpdate(Schema):
    """Every field optional; the result is validated together with the stored values."""

    name: Name | None = None
    track: Track | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    capacity: Capacity | None = None
    mode: CohortMode | None = None
    min_age: Age | None = None
    max_age: Age | None = None
    pass_score: Percent | None = None
    min_attendance: Percent | None = None
    waitlist_mode: WaitlistMode | None = Field(
        None, description="Pending offers keep their expiry; seats freed later follow the new mode."
    )
    offer_hours: OfferHours | None = Field(
        None, description="Applies to offers made from now on; pending offers keep their expiry."
    )

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (an explicit null is refused by the service)."""
        return self.model_dump(exclude_unset=True)


class CohortRead(Schema):
    id: str
    code: str
    programme: str
    centre: str
    name: str
    track: str
    start_date: date
    end_date: date
    capacity: int
    mode: CohortMode
    min_age: int
    max_age: int
    pass_score: int
    min_attendance: int
    status: CohortStatus
    waitlist_mode: WaitlistMode
    offer_hours: int
    seats_taken: int = Field(
        description="Enrollments holding a seat: enrolled, offered (offers not yet expired), "
        "completed, failed."
    )
    seats_available: int
    waitlist_length: int
    offers_pending: int = Field(description="Offers made and not yet answered or expired.")
    created_at: datetime
    updated_at: datetime
