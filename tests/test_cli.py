"""The CLI as an operator runs it: a real subprocess against a real database."""

import os
import subprocess
import sys

import httpx

from service.core.config import Settings
from service.core.db import Database
from service.main import create_app


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    # Wide enough that rich never wraps an error message mid-phrase (it wraps at
    # 80 columns when there is no terminal, and tmp paths are long).
    env = {**os.environ, "ENROLL_DATABASE_URL": url, "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _get(url: str, token: str) -> int:
    db = Database.from_url(url)
    app = create_app(settings=Settings(database_url=url), database=db)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.post(
                "/api/v1/centres",
                json={"code": "cli-made", "name": "CLI"},
                headers={"Authorization": f"Bearer {token}"},
            )
            return response.status_code
    finally:
        await db.dispose()


async def test_keys_create_prints_working_token_and_revoke_stops_it(
    fresh_database_url: str,
) -> None:
    created = run_cli(fresh_database_url, "keys", "create", "--role", "admin", "--name", "ops")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("enr_")
    assert await _get(fresh_database_url, token) == 201

    revoked = run_cli(fresh_database_url, "keys", "revoke", "ops")
    assert revoked.returncode == 0, revoked.stderr
    assert await _get(fresh_database_url, token) == 401


def test_keys_create_rejects_bad_input(fresh_database_url: str) -> None:
    result = run_cli(fresh_database_url, "keys", "create", "--role", "god", "--name", "x")
    assert result.returncode == 2
    assert "unknown role" in result.stderr
    scoped = run_cli(
        fresh_database_url,
        "keys", "create", "--role", "staff", "--name", "s", "--centre", "isb-gitc",
        "--centre", "online",
    )  # fmt: skip
    assert scoped.returncode == 0, scoped.stderr


def test_seed_is_idempotent(fresh_database_url: str) -> None:
    first = run_cli(fresh_database_url, "seed")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "seeded: 0 created"
