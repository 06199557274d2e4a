"""Settings from `ENROLL_*` environment variables and an optional `.env` file."""

from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./enrollment.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENROLL_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://...",
    )
    # When set, replaces the password in the database URLs, so the URL can be written
    # without it (compose reads it from an env file).
    database_password: SecretStr | None = None
    # Optional read replica for /api/v1/reports/* and /metrics; unset means the primary.
    reporting_database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    # "json": one JSON object per line; "text" for humans; "auto" (the default): text
    # when stderr is a terminal, JSON otherwise (files, pipes, containers).
    log_format: Literal["json", "text", "auto"] = "auto"
    # Origins allowed by CORS; empty (the default) means CORS stays closed.
    cors_origins: list[str] = []
    # Host names requests may name (JSON list); "*.example.pk" allows subdomains, "*"
    # any host. Anything else is a 400 before routing.
    allowed_hosts: list[str] = ["*"]
    # Proxies whose X-Forwarded-For/-Proto are believed (uvicorn forwarded_allow_ips).
    forwarded_allow_ips: str = "127.0.0.1"

    # HTTP limits of each server process (see docs/operations.md, "HTTP limits").
    max_header_bytes: int = Field(16_384, ge=1024)
    header_timeout: float = Field(10.0, gt=0)
    body_timeout: float = Field(30.0, gt=0)
    keep_alive_timeout: float = Field(5.0, gt=0)
    # Connections and in-flight requests per process beyond which new ones get a 503.
    max_concurrency: int = Field(256, ge=1)

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

    # How long Idempotency-Key records are kept, and how often (seconds) each serving
    # process deletes expired ones and expired dashboard sessions; 0 turns it off.
    idempotency_ttl_hours: int = 24
    purge_interval_seconds: float = Field(3600.0, ge=0)

    docs_enabled: bool = True

    @model_validator(mode="after")
    def _password_into_urls(self) -> Self:
        if self.database_password is None:
            return self
        password = self.database_password.get_secret_value()
        self.database_url = _with_password(self.database_url, password)
        if self.reporting_database_url:
            self.reporting_database_url = _with_password(self.reporting_database_url, password)
        return self


def _with_password(url: str, password: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


@lru_cache
def get_settings() -> Settings:
    return Settings()
