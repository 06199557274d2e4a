"""Races on committed databases: one CNIC registered twice at once, one Idempotency-Key twice.

These use a real engine on a fresh database (not the rolled-back test
transaction), so the two requests run in separate transactions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select, text

from service.applicants import service
from service.applicants.schemas import ApplicantCreate
from service.applicants.service import DuplicateApplicant
from service.core.auth import Actor
from service.core.config import Settings
from service.core.db import Database
from service.main import create_app
from service.models import ApiKey, Applicant, IdempotencyRecord
from service.models.enums import Role
from tests.factories import applicant_payload, auth, make_key, random_cnic

TIMEOUT = 60


@dataclass
class LiveApp:
    db: Database
    client: httpx.AsyncClient
    token: str

    async def count(self, model: type[Applicant] | type[IdempotencyRecord]) -> int:
        async with self.db.sessionmaker() as s:
            return int(await s.scalar(select(func.count()).select_from(model)) or 0)

    async def actor(self) -> Actor:
        async with self.db.sessionmaker() as s:
            key = await s.scalar(select(ApiKey).where(ApiKey.role == "staff"))
            assert key is not None
            return Actor(key_id=key.id, name=key.name, role=Role.staff)


@pytest.fixture
async def live(fresh_database_url: str) -> AsyncIterator[LiveApp]:
    db = Database.from_url(fresh_database_url)
    async with db.sessionmaker() as s:
        token = await make_key(s, "staff")
        await s.commit()
    app = create_app(settings=Settings(database_url=fresh_database_url), database=db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield LiveApp(db, client, token)
    finally:
        await db.dispose()


async def test_concurrent_registrations_of_one_cnic(live: LiveApp) -> None:
    for _ in range(3):
        cnic = random_cnic()
        bodies = [applicant_payload(cnic=cnic), applicant_payload(cnic=cnic.replace("-", ""))]
        responses = await asyncio.wait_for(
            asyncio.gather(
                *(
                    live.client.post("/api/v1/applicants", json=b, headers=auth(live.token))
                    for b in bodies
                )
            ),
            TIMEOUT,
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409], [r.text for r in responses]
        created = next(r for r in responses if r.status_code == 201).json()
        conflict = next(r for r in responses if r.status_code == 409).json()
        assert conflict["existing_id"] == created["id"]
    assert await live.count(Applicant) == 3


@pytest.mark.postgres_only
async def test_insert_race_is_a_409_not_a_500(live: LiveApp) -> None:
    """The second insert waits on the first's uncommitted row, then reports it."""
    actor = await live.actor()
    data = ApplicantCreate.model_validate(applicant_payload())
    async with live.db.sessionmaker() as first, live.db.sessionmaker() as second:
        # An open transaction (as an Idempotency-Key record opens one): the insert joins
        # it instead of committing by itself, and stays uncommitted until first.commit().
        await first.execute(text("SELECT 1"))
        winner = await service.register(first, actor, data)

        async def register_second() -> str | None:
            try:
                await service.register(second, actor, data)
            except DuplicateApplicant as exc:
                existing = exc.extra.get("existing_id")
                return str(existing) if existing else None
            return None

        task = asyncio.create_task(register_second())
        await asyncio.sleep(0.3)  # let the second INSERT reach the unique index and wait
        assert not task.done()
        await first.commit()
        existing_id = await asyncio.wait_for(task, TIMEOUT)
        await second.rollback()
    assert existing_id == winner.id
    assert await live.count(Applicant) == 1


async def test_concurrent_retries_with_one_idempotency_key(live: LiveApp) -> None:
    body = applicant_payload()
    headers = {**auth(live.token), "Idempotency-Key": "race-1"}
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(live.client.post("/api/v1/applicants", json=body, headers=headers) for _ in range(2))
        ),
        TIMEOUT,
    )
    statuses = [r.status_code for r in responses]
    assert 201 in statuses, [r.text for r in responses]
    # The twin either replays the first answer or is told to retry shortly.
    assert all(s in (201, 409) for s in statuses)
    created = [r.json() for r in responses if r.status_code == 201]
    assert all(c == created[0] for c in created)
    for r in responses:
        if r.status_code == 409:
            assert r.json()["title"] in ("Request in progress", "Applicant already registered")
    assert await live.count(Applicant) == 1
    # A later retry replays the stored answer.
    again = await live.client.post("/api/v1/applicants", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == created[0]
    assert await live.count(IdempotencyRecord) == 1


@pytest.mark.postgres_only
async def test_import_batch_retries_when_a_cnic_is_registered_meanwhile(live: LiveApp) -> None:
    """An import whose INSERT collides with a concurrent registration re-reads and goes on."""
    import io

    from service.applicants.importer import import_csv
    from tests.applicants.helpers import csv_bytes, csv_row

    actor = await live.actor()
    contested = csv_row()
    other = csv_row()
    data = ApplicantCreate.model_validate(applicant_payload(**{**contested, "consent": True}))
    async with live.db.sessionmaker() as first, live.db.sessionmaker() as second:
        await first.execute(text("SELECT 1"))  # open a transaction: the insert joins it
        await service.register(first, actor, data)  # not committed until first.commit()
        source = io.BytesIO(csv_bytes([contested, other]))
        task = asyncio.create_task(import_csv(second, source, key_id=actor.key_id))
        await asyncio.sleep(0.3)  # the import's INSERT waits on the uncommitted row
        assert not task.done()
        await first.commit()
        report = await asyncio.wait_for(task, TIMEOUT)
        await second.commit()
    assert (report.created, report.updated, report.unchanged) == (1, 0, 1)
    assert report.errors == []
    assert await live.count(Applicant) == 2


async def test_openapi_documents_the_applicant_endpoints(live: LiveApp) -> None:
    spec = (await live.client.get("/openapi.json")).json()
    paths = spec["paths"]
    assert set(paths["/api/v1/applicants"]) == {"post"}
    assert set(paths["/api/v1/applicants/{applicant_id}"]) == {"get", "patch"}
    assert "/api/v1/applicants/lookup" in paths
    assert "/api/v1/applicants/import" in paths
    update = spec["components"]["schemas"]["ApplicantUpdate"]["properties"]
    assert set(update) == {"email", "phone", "district", "province", "education_level"}
