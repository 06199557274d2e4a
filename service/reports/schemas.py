"""What the report endpoints answer; what a reporter may link is in ``audience.py``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Dimension = Literal[
    "province", "district", "gender", "age_band", "track", "centre", "cohort", "month", "pool"
]
Metric = Literal["completions", "enrollments", "trainees"]
TargetMetricName = Literal["completions", "enrollments", "trainees", "employed"]


class TargetProgress(BaseModel):
    code: str
    name: str
    goal: int
    metric: TargetMetricName
    programmes: list[str]
    deadline: date | None
    achieved: int
    percent: float = Field(description="achieved / goal × 100, rounded to 2 decimals")
    in_training: int = Field(description="Enrollments holding a seat in `enrolled` now")
    waitlisted: int
    completions_last_30_days: int
    daily_rate: float = Field(description="Growth of the metric over the last 30 days / 30")
    projected_date: date | None = Field(
        description="When the goal is reached at daily_rate; null if the rate is 0 or goal met"
    )
    required_daily_rate: float | None = Field(
        description="(goal - achieved) / days until the deadline; null without a deadline"
    )


class ProgrammeProgress(BaseModel):
    code: str
    applicants: int = Field(description="Distinct applicants with any enrollment in it")
    enrolled: int
    waitlisted: int
    completed: int = Field(description="Completions with a live (not revoked) certificate")
    failed: int
    dropped: int
    withdrawn: int
    cancelled: int
    offered: int = Field(description="Seat offers pending (not yet answered or expired)")
    declined: int
    expired: int = Field(description="Offers that expired, materialised or not")
    no_show: int


class Progress(BaseModel):
    targets: list[TargetProgress]
    programmes: list[ProgrammeProgress]


class BreakdownRow(BaseModel):
    key: str
    count: int | Literal["<5"]


class Breakdown(BaseModel):
    dimension: Dimension
    metric: Metric
    rows: list[BreakdownRow]


class FeedItem(BaseModel):
    position: int
    kind: Literal["completion", "revocation"]
    enrollment_id: str = Field(
        description="For a reporter key, a pseudonym stable for that key (not the real id)"
    )
    applicant_id: str = Field(
        description="For a reporter key, a pseudonym stable for that key (not the real id)"
    )
    cnic: str = Field(description="Masked to the last digit for a reporter key")
    programme: str
    cohort: str
    track: str
    centre: str
    province: str
    district: str
    gender: str
    age_band: str
    score: float | None
    attendance: float | None
    completed_at: datetime
    certificate_code: str | None = Field(description="null for a reporter key")
    revoked_at: datetime | None = None
    reason: str | None = None


class Feed(BaseModel):
    items: list[FeedItem]
    next_cursor: str


OutcomeDimension = Literal[
    "programme",
    "province",
    "district",
    "gender",
    "age_band",
    "track",
    "centre",
    "cohort",
    "month",
]
Count = int | Literal["<5"]


class OutcomeReportRow(BaseModel):
    key: str
    completers: Count = Field(description="Live completions whose window for the follow-up opened")
    responses: Count = Field(description="Of those, how many have an outcome for the follow-up")
    response_rate: float | None = Field(description="responses / completers × 100, 2 decimals")
    employed: Count = Field(description="employed + self_employed + freelance")
    employment_rate: float | None = Field(
        description="employed / (responses − unreachable) × 100, 2 decimals"
    )
    statuses: dict[str, Count]
    income_bands: dict[str, Count]


class OutcomeReport(BaseModel):
    follow_up: Literal["3m", "6m", "12m"]
    dimension: OutcomeDimension
    rows: list[OutcomeReportRow]


class ExportRow(BaseModel):
    """First exports of one programme's completers at one follow-up."""

    follow_up: Literal["3m", "6m", "12m"]
    responses: Count
    online_stores: Count = Field(description="Trainees who run an online store")
    exporters: Count = Field(description="Trainees with at least one export order")
    export_orders: Count
    export_value_usd: float | None = Field(description="null for reporters below 5 exporters")
