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

    # Connection pool (PostgreSQL); seconds. Overflow connections are closed as soon
    # as they come back to a full pool, so under steady load above ``pool_size`` they
    # are opened and closed again and again (measured: ~70 new connections in 8 s of
    # registrations, ~15 % of the throughput); size the pool for the load instead.
    pool_size: int = 20
    pool_max_overflow: int = 0
    pool_timeout: float = 5.0
    # Seconds to open a new database connection before giving up (then 503).
    connect_timeout: float = 3.0
    statement_timeout_ms: int = 10_000

    # Per API key and action (registration, enrollment); 0 turns the limit off.
    # Kept per server process: with N workers a caller may get up to N times this.
    rate_limit_per_minute: int = 0
    # Registrations per client key and minute, on by default: a partner app
    # signing people up never comes near it, a script probing CNICs does
    # (service/core/ratelimit.py). 0 turns it off; the lower of the two applies.
    register_rate_limit_per_minute: int = 600

    # ENROLL_SECRET_KEY: keys the fingerprints kept by identity corrections
    # (service/applicants/identity.py). Unset: a random key per process.
    secret_key: str = ""

    # Request body limits in bytes.
    max_json_body_bytes: int = 1_048_576
    max_upload_bytes: int = 50 * 1_048_576

    # How long Idempotency-Key records are kept.
    idempotency_ttl_hours: int = 24

    docs_enabled: bool = True


@lru_cache
def get_settings() -> Settings:
    return Settings()
