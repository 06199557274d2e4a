from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.core.fields import IsoDate
from service.models.enums import CohortMode, CohortStatus, Gender, Province, WaitlistMode

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


DistrictText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class PoolRule(Schema):
    """Who a pool's seats are for: every key given must match (any of its values)."""

    gender: list[Gender] | None = Field(None, min_length=1, max_length=3)
    province: list[Province] | None = Field(None, min_length=1, max_length=7)
    district: list[DistrictText] | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Any spelling of a district; stored as its canonical name.",
    )


class PoolIn(Schema):
    """One reserved-seat pool (contract: Reserved seats)."""

    code: Code = Field(description="Unique within the cohort, e.g. women.")
    seats: Annotated[int, Field(gt=0, le=100_000, strict=True)]
    rule: PoolRule
    release_on: IsoDate | None = Field(
        None,
        description="From this date (00:00 UTC) unfilled seats are open seats; at the latest "
        "from the cohort's start_date or /start.",
    )


Reserved = Annotated[
    list[PoolIn],
    Field(
        max_length=20,
        description="Reserved-seat pools, in priority order; their seats total at most capacity.",
    ),
]


class PoolRead(Schema):
    code: str
    seats: int
    taken: int
    available: int = Field(description="Free seats of the pool; 0 once released.")
    released: bool


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
    reserved: Reserved = Field(default_factory=list)


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
    reserved: Reserved | None = Field(
        None,
        description="Replaces the pools (matched by code: taken seats stay); a pool cannot "
        "drop below its taken seats.",
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
    seats_available: int = Field(
        description="Open seats free: capacity minus seats held minus unreleased pools' free seats."
    )
    waitlist_length: int
    offers_pending: int = Field(description="Offers made and not yet answered or expired.")
    pools: list[PoolRead] = Field(description="Reserved-seat pools, in priority order.")
    created_at: datetime
    updated_at: datetime
