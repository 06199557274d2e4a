"""Settings from `ENROLL_*` environment variables and an optional `.env` file."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./enrollment.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENROLL_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://...",
    )
    # Optional read replica for /api/v1/reports/* and /metrics; unset means the primary.
    reporting_database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    # "json": one JSON object per line (production); "text" for humans.
    log_format: Literal["json", "text"] = "json"
    # Origins allowed by CORS; empty (the default) means CORS stays closed.
    cors_origins: list[str] = []

    # Connection pool (PostgreSQL); seconds.
    pool_size: int = 10
    pool_max_overflow: int = 10
    pool_timeout: float = 5.0
    statement_timeout_ms: int = 10_000

    # Request body limits in bytes.
    max_json_body_bytes: int = 1_048_576
    max_upload_bytes: int = 50 * 1_048_576

    # How long Idempotency-Key records are kept.
    idempotency_ttl_hours: int = 24

    docs_enabled: bool = True


@lru_cache
def get_settings() -> Settings:
    return Settings()
