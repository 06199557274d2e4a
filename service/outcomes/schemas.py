"""Request and response bodies for outcomes; the CSV columns derive from ``OutcomeCreate``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.core.fields import IsoDate
from service.core.i18n import msg
from service.core.validation_messages import MessageError
from service.models.base import utcnow
from service.models.enums import FollowUp, IncomeBand, OutcomeSource, OutcomeStatus

# Export figures beyond these are typing mistakes, not first exports.
MAX_EXPORT_ORDERS = 1_000_000
MAX_EXPORT_VALUE = 1e12


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


def _not_future(value: date | None) -> date | None:
    if value is not None and value > utcnow().date():
        raise MessageError(msg("recorded_on.future", "Must not be in the future."))
    return value


class OutcomeFields(Schema):
    """The fields a correction may change (all optional)."""

    status: OutcomeStatus | None = None
    income_band: IncomeBand | None = Field(None, description="PKR a month.")
    online_store: bool | None = None
    export_orders: int | None = Field(None, ge=0, le=MAX_EXPORT_ORDERS)
    export_value_usd: float | None = Field(None, ge=0, le=MAX_EXPORT_VALUE)
    source: OutcomeSource | None = None
    recorded_on: IsoDate | None = Field(None, description="When it was asked; default today.")

    _recorded_on = field_validator("recorded_on")(_not_future)


class OutcomeCreate(Schema):
    follow_up: FollowUp
    status: OutcomeStatus
    income_band: IncomeBand | None = Field(None, description="PKR a month.")
    online_store: bool | None = None
    export_orders: int | None = Field(None, ge=0, le=MAX_EXPORT_ORDERS)
    export_value_usd: float | None = Field(None, ge=0, le=MAX_EXPORT_VALUE)
    source: OutcomeSource
    recorded_on: IsoDate | None = Field(None, description="When it was asked; default today.")

    _recorded_on = field_validator("recorded_on")(_not_future)

    def stored(self) -> dict[str, Any]:
        """The values as the table keeps them (enums as strings, recorded_on filled in)."""
        values = self.model_dump(mode="json")
        values["recorded_on"] = self.recorded_on or utcnow().date()
        return values


class OutcomeUpdate(OutcomeFields):
    """A correction: only the fields sent change; each change is kept in the audit trail."""


# The fields an outcome's record holds besides its keys (CSV columns, audit, updates).
VALUE_FIELDS: tuple[str, ...] = tuple(f for f in OutcomeCreate.model_fields if f != "follow_up")


class FieldChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: Any = Field(alias="from")
    to: Any


class CorrectionRead(BaseModel):
    at: datetime
    actor: str = Field(description="The API key's name.")
    changes: dict[str, FieldChange]


class OutcomeRead(Schema):
    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True)

    id: str
    enrollment_id: str
    applicant_id: str
    cohort_id: str
    follow_up: FollowUp
    status: OutcomeStatus
    income_band: IncomeBand | None
    online_store: bool | None
    export_orders: int | None
    export_value_usd: float | None
    source: OutcomeSource
    recorded_on: date
    created_at: datetime
    updated_at: datetime
    corrections: list[CorrectionRead] = Field(
        default_factory=list, description="Every correction, oldest first."
    )


class OutcomeList(BaseModel):
    items: list[OutcomeRead]


class DueItem(BaseModel):
    enrollment_id: str
    applicant_id: str
    cohort_id: str
    cohort: str
    programme: str
    centre: str
    follow_up: FollowUp
    completed_at: datetime
    window_opens: date
    window_closes: date = Field(description="Last day of the window, inclusive.")
