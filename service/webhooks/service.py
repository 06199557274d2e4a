"""Webhook endpoints: create, read, change, delete, rotate, test, deliveries, replay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import NotFound, ValidationFailed
from service.core.i18n import msg
from service.core.pagination import PageParams, paginate
from service.events import repository as events_repo
from service.events.service import filters
from service.events.types import TEST_EVENT, parse_patterns
from service.models import Event, Webhook
from service.models.base import new_id, utcnow
from service.webhooks import repository
from service.webhooks.config import WebhookSettings
from service.webhooks.schemas import (
    DeliveryRead,
    ReplayQueued,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from service.webhooks.signing import new_secret
from service.webhooks.urls import target_error

SECRET_OVERLAP = timedelta(hours=24)


def webhook_not_found() -> NotFound:
    return NotFound(msg("webhook.not_found", "No webhook with this id."))


def to_read(webhook: Webhook) -> WebhookRead:
    return WebhookRead(
        id=webhook.id,
        url=webhook.url,
        events=json.loads(webhook.events),
        description=webhook.description,
        enabled=webhook.enabled,
        disabled_reason=webhook.disabled_reason,
        created_at=webhook.created_at,
        updated_at=webhook.updated_at,
    )


async def _check_url(url: str, settings: WebhookSettings) -> None:
    error = await target_error(url, allow_private=settings.webhook_allow_private)
    if error:
        raise ValidationFailed({"url": error})


async def create(
    session: AsyncSession, actor: Actor, data: WebhookCreate, settings: WebhookSettings
) -> WebhookCreated:
    patterns = parse_patterns(data.events, "events")
    await _check_url(data.url, settings)
    webhook = Webhook(
        id=new_id(),
        api_key_id=actor.key_id,
        url=data.url,
        events=json.dumps(list(patterns)),
        description=data.description,
        enabled=True,
        secret=new_secret(),
    )
    session.add(webhook)
    await session.flush()
    return WebhookCreated(**to_read(webhook).model_dump(), secret=webhook.secret)


async def get(session: AsyncSession, actor: Actor, webhook_id: str) -> Webhook:
    webhook = await repository.get_readable(session, actor, webhook_id)
    if webhook is None:
        raise webhook_not_found()
    return webhook


async def list_webhooks(
    session: AsyncSession, actor: Actor, page: PageParams
) -> tuple[list[WebhookRead], str | None]:
    rows, cursor = await paginate(session, repository.readable(actor), Webhook.id, page)
    return [to_read(w) for w in rows], cursor


async def update(
    session: AsyncSession,
    actor: Actor,
    webhook_id: str,
    data: WebhookUpdate,
    settings: WebhookSettings,
) -> WebhookRead:
    changes = data.changes()
    null = msg("field.not_null", "May not be null.")
    nulls = {f: null for f, v in changes.items() if v is None and f != "description"}
    if nulls:
        raise ValidationFailed(nulls)
    webhook = await get(session, actor, webhook_id)
    if "events" in changes:
        webhook.events = json.dumps(list(parse_patterns(changes["events"], "events")))
    if "url" in changes:
        await _check_url(changes["url"], settings)
        webhook.url = changes["url"]
    if "description" in changes:
        webhook.description = changes["description"]
    if changes.get("enabled") is True and not webhook.enabled:
        webhook.enabled, webhook.disabled_reason, webhook.failing_since = True, None, None
    elif changes.get("enabled") is False and webhook.enabled:
        webhook.enabled, webhook.disabled_reason = False, "disabled by its owner"
    await session.flush()
    return to_read(webhook)


async def delete(session: AsyncSession, actor: Actor, webhook_id: str) -> None:
    webhook = await get(session, actor, webhook_id)
    await session.delete(webhook)
    await session.flush()


async def rotate_secret(session: AsyncSession, actor: Actor, webhook_id: str) -> str:
    """A new secret; the old one keeps signing beside it for 24 hours."""
    webhook = await get(session, actor, webhook_id)
    webhook.previous_secret = webhook.secret
    webhook.previous_secret_expires_at = utcnow() + SECRET_OVERLAP
    webhook.secret = new_secret()
    await session.flush()
    return webhook.secret


async def send_test(session: AsyncSession, actor: Actor, webhook_id: str) -> str:
    """Queue a ``webhook.test`` event to this endpoint alone, whatever it subscribes to."""
    webhook = await get(session, actor, webhook_id)
    now = utcnow()
    event = Event(
        id=new_id(),
        type=TEST_EVENT,
        occurred_at=now,
        data=json.dumps({}),
        webhook_id=webhook.id,
    )
    session.add(event)
    await session.flush()
    await repository.queue(session, webhook.id, [event.seq], now)
    return event.id


async def list_deliveries(
    session: AsyncSession, actor: Actor, webhook_id: str, status: str | None, page: PageParams
) -> tuple[list[DeliveryRead], str | None]:
    webhook = await get(session, actor, webhook_id)
    rows, cursor = await repository.delivery_page(session, webhook.id, status, page)
    return [
        DeliveryRead(
            id=d.id,
            event_id=event_id,
            event_type=event_type,
            status=d.status,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            created_at=d.created_at,
        )
        for d, event_id, event_type in rows
    ], cursor


async def replay(
    session: AsyncSession, actor: Actor, webhook_id: str, since: datetime
) -> ReplayQueued:
    """Queue again every event since ``since`` (inclusive) the endpoint's key may see and
    the endpoint subscribes to: the feed's own rule."""
    webhook = await get(session, actor, webhook_id)
    if since.tzinfo is None:
        raise ValidationFailed(
            {"since": msg("since.timezone", "Give a timezone (Z or an offset).")}
        )
    owner = (await repository.owners(session, [webhook.api_key_id])).get(webhook.api_key_id)
    if owner is None:
        return ReplayQueued(queued=0)
    bound = await events_repo.horizon(session)
    patterns = json.loads(webhook.events)
    seqs = await events_repo.since(session, since, filters(owner.actor, patterns), bound)
    queued = await repository.queue(session, webhook.id, seqs, utcnow())
    return ReplayQueued(queued=queued)
