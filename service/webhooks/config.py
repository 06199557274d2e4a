"""Webhook and dispatcher settings (``ENROLL_*`` environment variables)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Seconds after the 1st, 2nd, ... failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
# 20 h, 24 h; after the last one the delivery is failed.
DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENROLL_", env_file=".env", extra="ignore")

    # "on": `serve` runs a dispatcher in each server process; "off": only `worker` delivers.
    dispatcher: Literal["on", "off"] = "on"
    # Lifts the https and public-address rules (tests, single-site installs).
    webhook_allow_private: bool = False
    # Comma-separated seconds overriding DEFAULT_RETRY_SCHEDULE.
    webhook_retry_schedule: str | None = None
    webhook_timeout_seconds: float = 10.0
    # A claimed attempt belongs to its dispatcher this long; then another takes it over.
    webhook_lease_seconds: float = 60.0
    # Deliveries claimed per round, and attempts in flight per endpoint.
    webhook_batch_size: int = 200
    webhook_concurrency_per_endpoint: int = 8
    # Seconds between polls when there is nothing to do.
    webhook_poll_seconds: float = 0.5
    # Retention, enforced by the dispatcher in bounded batches. Events are the
    # audit trail: kept unless event_retention_days is set.
    delivery_retention_days: int = 30
    event_retention_days: int | None = None

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_schedule(value)
        return value

    def retry_schedule(self) -> tuple[float, ...]:
        if self.webhook_retry_schedule and self.webhook_retry_schedule.strip():
            return parse_schedule(self.webhook_retry_schedule)
        return tuple(float(s) for s in DEFAULT_RETRY_SCHEDULE)


def parse_schedule(text: str) -> tuple[float, ...]:
    try:
        steps = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError("ENROLL_WEBHOOK_RETRY_SCHEDULE: comma-separated seconds") from None
    if any(step < 0 for step in steps):
        raise ValueError("ENROLL_WEBHOOK_RETRY_SCHEDULE: seconds must be >= 0")
    return steps


@lru_cache
def get_webhook_settings() -> WebhookSettings:
    return WebhookSettings()
