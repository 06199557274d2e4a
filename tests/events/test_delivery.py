"""Delivery to a real local receiver: signatures, retries, timeouts, disabling, replay.

The dispatcher's clock is a ManualClock: time moves only when the test says so.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook as Verifier

from service.core.clock import ManualClock
from service.core.db import Database
from service.models import Webhook, WebhookDelivery
from service.webhooks import repository
from service.webhooks.config import WebhookSettings, get_webhook_settings
from service.webhooks.dispatcher import Dispatcher
from tests.events.helpers import walk
from tests.events.receiver import receiver
from tests.factories import applicant_payload, auth, make_key

# A generous timeout: the machine running the suite may be busy.
ALLOW = WebhookSettings(
    webhook_allow_private=True, webhook_retry_schedule="10,20,30", webhook_timeout_seconds=10
)
IMPATIENT = ALLOW.model_copy(update={"webhook_timeout_seconds": 0.5})


@pytest.fixture
def allow_private(app: FastAPI) -> None:
    app.dependency_overrides[get_webhook_settings] = lambda: ALLOW


MakeDispatcher = Callable[..., Dispatcher]


@pytest.fixture
async def dispatcher(database: Database) -> AsyncIterator[MakeDispatcher]:
    made: list[Dispatcher] = []

    def make(settings: WebhookSettings = ALLOW, clock: ManualClock | None = None) -> Dispatcher:
        d = Dispatcher(
            database, settings, clock=clock or ManualClock(), rng=random.Random(1), name=None
        )
        made.append(d)
        return d

    yield make
    for d in made:
        await d.close()


async def subscribe(
    client: httpx.AsyncClient, token: str, url: str, events: list[str]
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/webhooks", json={"url": url, "events": events}, headers=auth(token)
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def register(client: httpx.AsyncClient, token: str) -> str:
    r = await client.post("/api/v1/applicants", json=applicant_payload(), headers=auth(token))
    assert r.status_code == 201, r.text
    applicant_id: str = r.json()["id"]
    return applicant_id


async def deliveries(session: AsyncSession, webhook_id: str) -> list[WebhookDelivery]:
    rows = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


pytestmark = pytest.mark.usefixtures("allow_private")


async def test_signed_delivery_verifies_with_standardwebhooks(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    with receiver() as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.*"])
        applicant_id = await register(client, token)
        d = dispatcher(clock=ManualClock())
        assert await d.run_once() >= 1
        assert len(rx.received) == 1
        got = rx.received[0]
    payload = Verifier(hook["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "applicant.registered"
    assert payload["data"] == {"applicant_id": applicant_id}
    assert got.headers["webhook-id"] == payload["id"]
    assert got.headers["content-type"] == "application/json"
    # The same event as the feed shows it.
    feed = await client.get("/api/v1/events", headers=auth(token))
    assert payload == feed.json()["items"][-1]
    listed = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=auth(token))
    (item,) = listed.json()["items"]
    assert item["status"] == "succeeded"
    assert item["attempts"] == 1
    assert item["last_status_code"] == 204
    assert item["event_id"] == payload["id"]
    # Delivered once: another round sends nothing.
    with receiver() as rx2:
        assert await d.run_once() == 0
        assert rx2.received == []


async def test_failures_retry_on_schedule_then_fail(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    clock = ManualClock()
    with receiver(status=500) as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.registered"])
        await register(client, token)
        d = dispatcher(clock=clock)
        await d.run_once()
        (row,) = await deliveries(session, hook["id"])
        assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
        assert row.next_attempt_at is not None
        wait = (row.next_attempt_at - clock.now()).total_seconds()
        assert 9 <= wait <= 11  # 10 s ± 10 % jitter
        clock.advance(wait - 1)
        assert await d.run_once() == 0  # not due yet
        for step in (1, 22, 33):
            clock.advance(step)
            assert await d.run_once() == 1
        (row,) = await deliveries(session, hook["id"])
        assert (row.status, row.attempts) == ("failed", 4)
        assert len(rx.received) == 4
        ids = {r.headers["webhook-id"] for r in rx.received}
        assert len(ids) == 1  # the same id on every retry
        clock.advance(10_000)
        assert await d.run_once() == 0


async def test_retry_after_is_honoured(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    clock = ManualClock()
    with receiver(status=503, headers={"retry-after": "120"}) as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.registered"])
        await register(client, token)
        await dispatcher(clock=clock).run_once()
    (row,) = await deliveries(session, hook["id"])
    assert row.next_attempt_at == clock.now() + timedelta(seconds=120)


@pytest.mark.parametrize(
    ("mode", "error"),
    [("hang", "no answer within 0.5 s"), ("close", "Error"), ("redirect", "redirect (302)")],
)
async def test_receiver_faults_are_failures(
    client: httpx.AsyncClient,
    session: AsyncSession,
    dispatcher: MakeDispatcher,
    mode: str,
    error: str,
) -> None:
    token = await make_key(session, "client")
    with receiver(mode=mode) as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.registered"])
        await register(client, token)
        await dispatcher(settings=IMPATIENT if mode == "hang" else ALLOW).run_once()
        assert len(rx.received) == 1  # a redirect is not followed
    (row,) = await deliveries(session, hook["id"])
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error is not None
    assert error in row.last_error


async def test_410_disables_the_endpoint(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    clock = ManualClock()
    with receiver(status=410) as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.registered"])
        await register(client, token)
        d = dispatcher(clock=clock)
        await d.run_once()
        await register(client, token)
        clock.advance(3600)
        await d.run_once()
        assert len(rx.received) == 1
    got = (await client.get(f"/api/v1/webhooks/{hook['id']}", headers=auth(token))).json()
    assert got["enabled"] is False
    assert "410" in got["disabled_reason"]
    rows = await deliveries(session, hook["id"])
    assert [r.status for r in rows] == ["failed"]  # disabled: the second is never queued
    # Re-enabled, it delivers again.
    r = await client.patch(
        f"/api/v1/webhooks/{hook['id']}", json={"enabled": True}, headers=auth(token)
    )
    assert r.json()["enabled"] is True
    assert r.json()["disabled_reason"] is None


async def test_five_days_of_failures_disable(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    clock = ManualClock()
    settings = WebhookSettings(webhook_allow_private=True, webhook_retry_schedule="86400," * 8)
    # Nothing listens on that port any more: every attempt fails.
    hook = await subscribe(client, token, receiver_url_closed(), ["*"])
    await register(client, token)
    d = dispatcher(settings=settings, clock=clock)
    await d.run_once()
    for _ in range(4):
        clock.advance(86400 * 1.2)
        await d.run_once()
        got = (await client.get(f"/api/v1/webhooks/{hook['id']}", headers=auth(token))).json()
        assert got["enabled"] is True
    clock.advance(86400 * 1.2)
    await d.run_once()
    got = (await client.get(f"/api/v1/webhooks/{hook['id']}", headers=auth(token))).json()
    assert got["enabled"] is False
    assert "5 days" in got["disabled_reason"]


def receiver_url_closed() -> str:
    with receiver() as rx:
        url = rx.url
    return url


async def test_rotation_signs_with_both_secrets_for_24_hours(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    with receiver() as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.registered"])
        r = await client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=auth(token))
        new_secret = r.json()["secret"]
        await register(client, token)
        clock = ManualClock()
        d = dispatcher(clock=clock)
        await d.run_once()
        got = rx.received[0]
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        Verifier(hook["secret"]).verify(got.body, got.headers)
        Verifier(new_secret).verify(got.body, got.headers)
        clock.advance(25 * 3600)
        await register(client, token)
        await d.run_once()
        later = rx.received[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1


async def test_test_event_ignores_the_subscription(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    with receiver() as rx:
        hook = await subscribe(client, token, rx.url, ["certificate.revoked"])
        r = await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=auth(token))
        assert r.status_code == 202
        await dispatcher().run_once()
        (got,) = rx.received
    body = Verifier(hook["secret"]).verify(got.body, got.headers)
    assert body["type"] == "webhook.test"
    assert body["id"] == r.json()["event_id"]


async def test_receiver_down_then_back_gets_every_event_by_replay(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    clock = ManualClock()
    d = dispatcher(clock=clock)
    with receiver() as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.registered"])
        await d.run_once()
    # The receiver is down: attempts fail.
    ids = [await register(client, token) for _ in range(3)]
    await d.run_once()
    assert {r.status for r in await deliveries(session, hook["id"])} == {"pending"}
    # Back (on a new port): point the endpoint there, let the retries find it.
    with receiver() as rx:
        await client.patch(
            f"/api/v1/webhooks/{hook['id']}", json={"url": rx.url}, headers=auth(token)
        )
        clock.advance(15)
        await d.run_once()
        got = [json.loads(b)["data"]["applicant_id"] for b in rx.bodies()]
        assert sorted(got) == sorted(ids)
        # Replay queues them again (inclusive of the instant given).
        r = await client.post(
            f"/api/v1/webhooks/{hook['id']}/replay",
            json={"since": "2000-01-01T00:00:00Z"},
            headers=auth(token),
        )
        assert r.status_code == 202
        assert r.json() == {"queued": 3}
        await d.run_once()
        assert len(rx.received) == 6


async def test_subscriptions_follow_the_feed_visibility(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    other_client = await make_key(session, "client")
    reporter = await make_key(session, "reporter")
    with receiver() as mine, receiver() as theirs, receiver() as rep:
        hooks = {}
        # Subscribe before the walk: the walk's client key is made inside it, so use a
        # client key that registers nothing (it must get nothing) and a reporter.
        hooks["other"] = await subscribe(client, other_client, theirs.url, ["*"])
        hooks["reporter"] = await subscribe(client, reporter, rep.url, ["*"])
        w = await walk(client, session)
        hooks["mine"] = await subscribe(client, w.client_token, mine.url, ["*"])
        await client.patch(
            f"/api/v1/applicants/{w.applicant_ids[0]}",
            json={"district": "Lahore"},
            headers=auth(w.client_token),
        )
        await dispatcher().run_once()
        assert theirs.received == []
        reporter_events = [json.loads(b) for b in rep.bodies()]
        assert {e["type"] for e in reporter_events} == {"certificate.issued", "certificate.revoked"}
        for e in reporter_events:
            assert "certificate_code" not in e["data"]
            assert e["data"]["enrollment_id"] not in w.enrollment_ids
        feed = await client.get("/api/v1/events", params={"limit": 500}, headers=auth(reporter))
        in_feed = [e for e in feed.json()["items"] if e["type"].startswith("certificate.")]
        # Attempts run concurrently: the receiver may get them in either order.
        assert sorted(in_feed[-2:], key=str) == sorted(reporter_events, key=str)
        mine_events = [json.loads(b) for b in mine.bodies()]
        assert [e["type"] for e in mine_events] == ["applicant.updated"]


async def test_a_private_target_is_refused_at_delivery(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    """Saved while allowed (or re-pointed by DNS), an https URL on loopback is not reached."""
    token = await make_key(session, "client")
    with receiver() as rx:
        port = rx.url.rsplit(":", 1)[1].strip("/")
        hook = await subscribe(client, token, f"https://127.0.0.1:{port}/", ["*"])
        await register(client, token)
        strict = WebhookSettings(webhook_retry_schedule="10")
        await dispatcher(settings=strict).run_once()
        assert rx.received == []
    (row,) = await deliveries(session, hook["id"])
    assert row.last_error is not None
    assert "not allowed" in row.last_error
    assert "loopback" in row.last_error


async def test_an_expired_lease_is_taken_over(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    clock = ManualClock()
    with receiver() as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.registered"])
        await register(client, token)
        crashed, survivor = dispatcher(clock=clock), dispatcher(clock=clock)
        await crashed.fan_out()
        # `crashed` claims the attempt and dies before making it.
        async with crashed.db.sessionmaker() as s:
            claimed = await repository.claim(
                s, worker=crashed.name, now=clock.now(), lease=60, limit=10
            )
            await s.commit()
        assert len(claimed) == 1
        assert await survivor.run_once() == 0  # still leased
        clock.advance(61)
        assert await survivor.run_once() == 1
        assert len(rx.received) == 1
    (row,) = await deliveries(session, hook["id"])
    assert row.status == "succeeded"
    assert row.leased_by is None


async def test_revoked_key_stops_its_endpoint(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    with receiver() as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.registered"])
        await register(client, token)
        await session.execute(update(Webhook).where(Webhook.id == hook["id"]).values(enabled=False))
        await dispatcher().run_once()
        assert rx.received == []


async def test_retention_prunes_finished_deliveries_and_keeps_events(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    clock = ManualClock()
    with receiver() as rx:
        hook = await subscribe(client, token, rx.url, ["applicant.registered"])
        await register(client, token)
        d = dispatcher(clock=clock)
        await d.run_once()
    assert [r.status for r in await deliveries(session, hook["id"])] == ["succeeded"]
    clock.advance(29 * 86400)
    assert await d.prune() == 0
    clock.advance(2 * 86400)
    assert await d.prune() == 1
    assert await deliveries(session, hook["id"]) == []
    feed = await client.get("/api/v1/events", headers=auth(token))
    assert [e["type"] for e in feed.json()["items"]] == ["applicant.registered"]


async def test_outbox_metrics_are_exported(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: MakeDispatcher
) -> None:
    token = await make_key(session, "client")
    with receiver() as rx:
        await subscribe(client, token, rx.url, ["applicant.registered"])
        await register(client, token)
        await dispatcher().run_once()
    r = await client.get("/metrics", headers=auth(await make_key(session, "admin")))
    assert 'enroll_webhook_deliveries_total{outcome="succeeded"}' in r.text
    assert "enroll_events_dispatched_total" in r.text
