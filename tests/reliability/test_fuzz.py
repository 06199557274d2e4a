"""Fuzz every operation as every role (and with no token): no 5xx, answers as documented."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi import FastAPI

from service.core.config import Settings
from service.core.db import Database
from service.main import create_app
from tests.factories import (
    make_applicant,
    make_certificate,
    make_cohort,
    make_enrollment,
    make_key,
)
from tests.reliability import fuzzing

# `make test` runs a few examples per operation, mode and role; `make fuzz` many more
# (FUZZ_EXAMPLES) with a fresh random seed each run (FUZZ_SEED=random).
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "3"))
SEED = None if os.environ.get("FUZZ_SEED") == "random" else 0


@dataclass
class FuzzTarget:
    app: FastAPI
    tokens: dict[str, str | None]
    known_ids: dict[str, str]


@pytest.fixture
async def fuzz_target(fresh_database_url: str) -> AsyncIterator[FuzzTarget]:
    db = Database.from_url(fresh_database_url)
    try:
        async with db.sessionmaker() as session:
            keys = {role: await make_key(session, role) for role in fuzzing.ROLES}
            tokens: dict[str, str | None] = dict(keys)
            client_key_id = keys["client"].id
            applicant = await make_applicant(session, created_by_key_id=client_key_id)
            cohort = await make_cohort(session, capacity=3, start_date=date(2031, 1, 1))
            enrollment = await make_enrollment(session, cohort, applicant)
            done = await make_enrollment(session, cohort, status="completed", score=90)
            certificate = await make_certificate(session, done, code="ZTE-7K3M-9QXA-2WPD-H4TR")
            known = {
                "code": certificate.code,
                "applicant_id": applicant.id,
                "cohort_id": cohort.id,
                "enrollment_id": enrollment.id,
            }
            await session.commit()
    finally:
        await db.dispose()
    tokens["anonymous"] = None
    app = create_app(Settings(database_url=fresh_database_url, rate_limit_per_minute=0))
    try:
        yield FuzzTarget(app, tokens, known)
    finally:
        fuzzing.dispose(app)


@pytest.mark.slow
def test_every_operation_as_every_role_answers_as_documented(
    fuzz_target: FuzzTarget, backend: str
) -> None:
    if backend == "postgresql" and "FUZZ_EXAMPLES" not in os.environ:
        pytest.skip("fuzzing on PostgreSQL runs in `make fuzz` (SQLite covers it in `make test`)")
    report = fuzzing.fuzz(
        fuzz_target.app,
        fuzz_target.tokens,
        examples=EXAMPLES_PER_OPERATION,
        known_ids=fuzz_target.known_ids,
        seed=SEED,
    )
    print(fuzzing.summary(report))  # noqa: T201
    assert report.requests > 0
    assert not report.failures, "\n\n".join(report.failures)


@pytest.mark.slow
def test_chains_that_follow_the_links_answer_as_documented(
    fuzz_target: FuzzTarget, backend: str
) -> None:
    """`make fuzz` only: schemathesis' stateful phase, as admin, along the document's links."""
    if "FUZZ_EXAMPLES" not in os.environ:
        pytest.skip("the stateful phase runs in `make fuzz`")
    token = fuzz_target.tokens["admin"]
    assert token is not None
    report = fuzzing.fuzz_stateful(
        fuzz_target.app, token, scenarios=EXAMPLES_PER_OPERATION, steps=10, seed=SEED
    )
    print("stateful:", fuzzing.summary(report))  # noqa: T201
    assert report.requests > 0
    assert not report.failures, "\n\n".join(report.failures)
