from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.webhooks.urls import MAX_URL_LENGTH

Url = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH)
]
Pattern = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
DeliveryStatus = Literal["pending", "succeeded", "failed"]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class WebhookCreate(Schema):
    url: Url = Field(description="https:// URL on a public address.")
    events: list[Pattern] = Field(
        min_length=1, max_length=50, description='Types or patterns: ["enrollment.*", ...].'
    )
    description: Description | None = None


class WebhookUpdate(Schema):
    url: Url | None = None
    events: list[Pattern] | None = Field(None, min_length=1, max_length=50)
    description: Description | None = None
    enabled: bool | None = Field(None, description="true re-enables a disabled endpoint.")

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class WebhookRead(Schema):
    id: str
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="whsec_...: shown only in this answer.")


class SecretRead(Schema):
    secret: str


class TestQueued(Schema):
    event_id: str


class ReplayRequest(Schema):
    since: datetime = Field(description="Queue every event at or after this instant again.")


class ReplayQueued(Schema):
    queued: int


class DeliveryRead(Schema):
    id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
