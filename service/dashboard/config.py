"""Dashboard settings: `ENROLL_SECRET_KEY`, `ENROLL_DASHBOARD_SESSION_HOURS`,
`ENROLL_PUBLIC_DASHBOARD`.

Read from the environment (and `.env`) like the core settings, but kept beside the
dashboard so the core settings stay the API's. Tests override ``get_dashboard_settings``
through ``app.dependency_overrides``.
"""

from __future__ import annotations

import logging
import secrets
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)
MIN_SECRET_BYTES = 32


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENROLL_", env_file=".env", extra="ignore")

    secret_key: str = Field(
        "",
        description="Signs dashboard session cookies. Unset: a random key per process.",
    )
    dashboard_session_hours: float = Field(8.0, gt=0, le=24 * 30)
    public_dashboard: bool = False

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"ENROLL_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes")
        return value


@lru_cache
def get_dashboard_settings() -> DashboardSettings:
    settings = DashboardSettings()
    if not settings.secret_key:
        logger.warning(
            "ENROLL_SECRET_KEY is not set: dashboard sessions are signed with a random key "
            "made for this process, so they will not survive a restart or span several "
            "workers. Set ENROLL_SECRET_KEY to a long random string in production."
        )
        settings = settings.model_copy(update={"secret_key": secrets.token_urlsafe(32)})
    return settings
