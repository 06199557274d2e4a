"""Every SQL statement about webhook endpoints and deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.pagination import PageParams, decode_cursor, encode_cursor
from service.core.pseudonyms import Pseudonyms, for_key, server_secret
from service.models import ApiKey, Event, Webhook, WebhookDelivery, WebhookFanout
from service.models.api_key import api_key_centres
from service.models.base import new_id
from service.models.enums import Role


@dataclass(frozen=True, slots=True)
class Owner:
    """The endpoint's key: whose visibility its events follow."""

    actor: Actor
    pseudonyms: Pseudonyms  # what the key receives instead of real ids, when a reporter


def readable(actor: Actor) -> Any:
    stmt = select(Webhook)
    return stmt if actor.role is Role.admin else stmt.where(Webhook.api_key_id == actor.key_id)


async def get_readable(session: AsyncSession, actor: Actor, webhook_id: str) -> Webhook | None:
    found: Webhook | None = await session.scalar(
        readable(actor).where(Webhook.id == webhook_id).execution_options(populate_existing=True)
    )
    return found


async def owners(session: AsyncSession, key_ids: Sequence[str]) -> dict[str, Owner]:
    """Live (not revoked) keys by id, with their centres."""
    if not key_ids:
        return {}
    rows = (
        await session.execute(
            select(ApiKey.id, ApiKey.name, ApiKey.role, api_key_centres.c.centre_id)
            .outerjoin(api_key_centres, api_key_centres.c.api_key_id == ApiKey.id)
            .where(ApiKey.id.in_(list(set(key_ids))), ApiKey.revoked_at.is_(None))
        )
    ).all()
    centres: dict[str, set[str]] = {}
    for row in rows:
        centres.setdefault(row.id, set())
        if row.centre_id is not None:
            centres[row.id].add(row.centre_id)
    server = await server_secret(session)
    found: dict[str, Owner] = {}
    for row in rows:
        if row.id in found:
            continue
        actor = Actor(
            key_id=row.id,
            name=row.name,
            role=Role(row.role),
            centre_ids=frozenset(centres[row.id]) or None,
        )
        found[row.id] = Owner(actor, for_key(server, row.id))
    return found


async def enabled_endpoints(session: AsyncSession) -> Sequence[Webhook]:
    return (await session.scalars(select(Webhook).where(Webhook.enabled.is_(True)))).all()


async def lock_fanout(session: AsyncSession) -> WebhookFanout | None:
    """The fan-out cursor, locked; None while another dispatcher holds it."""
    found: WebhookFanout | None = await session.scalar(
        select(WebhookFanout)
        .where(WebhookFanout.id == 1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return found


async def queue(
    session: AsyncSession, webhook_id: str, event_seqs: Sequence[int], at: datetime
) -> int:
    """Insert one pending delivery per event, due at ``at``."""
    if event_seqs:
        await session.execute(
            insert(WebhookDelivery),
            [
                {
                    "id": new_id(),
                    "webhook_id": webhook_id,
                    "event_seq": seq,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
                for seq in event_seqs
            ],
        )
    return len(event_seqs)


async def claim(
    session: AsyncSession, *, worker: str, now: datetime, lease: float, limit: int
) -> Sequence[Any]:
    """Lease due attempts to ``worker``: unclaimed ones and those whose lease ran out.

    ``FOR UPDATE SKIP LOCKED``: dispatchers claiming at once take disjoint rows
    (on SQLite the write lock serialises them).
    """
    due = (
        select(WebhookDelivery.id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            (WebhookDelivery.leased_until.is_(None)) | (WebhookDelivery.leased_until < now),
            Webhook.enabled.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    claimed = (
        (
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(due.scalar_subquery()))
                .values(leased_by=worker, leased_until=now + timedelta(seconds=lease))
                .returning(WebhookDelivery.id)
                .execution_options(synchronize_session=False)
            )
        )
        .scalars()
        .all()
    )
    if not claimed:
        return []
    stmt = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.attempts,
            Webhook.id.label("webhook_id"),
            Webhook.url,
            Webhook.api_key_id,
            Webhook.secret,
            Webhook.previous_secret,
            Webhook.previous_secret_expires_at,
            Event.id.label("event_id"),
            Event.type,
            Event.occurred_at,
            Event.data,
        )
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .join(Event, Event.seq == WebhookDelivery.event_seq)
        .where(WebhookDelivery.id.in_(list(claimed)))
    )
    return (await session.execute(stmt)).all()


async def finish(
    session: AsyncSession, delivery_id: str, worker: str, values: dict[str, Any]
) -> bool:
    """Record an attempt's outcome while ``worker`` still holds the lease."""
    done = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.leased_by == worker)
        .values(leased_by=None, leased_until=None, **values)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


async def succeed(
    session: AsyncSession, delivery_ids: Sequence[str], worker: str, code: int, at: datetime
) -> Sequence[str]:
    """Record that the receiver answered ``code`` (2xx) to each of these attempts, where
    ``worker`` still holds the lease; the ids recorded."""
    done = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(list(delivery_ids)), WebhookDelivery.leased_by == worker)
        .values(
            leased_by=None,
            leased_until=None,
            status="succeeded",
            attempts=WebhookDelivery.attempts + 1,
            last_status_code=code,
            last_error=None,
            next_attempt_at=None,
            updated_at=at,
        )
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return done.scalars().all()


async def release(session: AsyncSession, worker: str) -> None:
    """Give back every lease of ``worker`` (graceful shutdown)."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.leased_by == worker, WebhookDelivery.status == "pending")
        .values(leased_by=None, leased_until=None)
        .execution_options(synchronize_session=False)
    )


async def mark_success(session: AsyncSession, webhook_id: str) -> None:
    await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.failing_since.is_not(None))
        .values(failing_since=None)
        .execution_options(synchronize_session=False)
    )


async def mark_failure(
    session: AsyncSession,
    webhook_id: str,
    now: datetime,
    *,
    disable_reason: str | None,
    failing_for: timedelta,
) -> None:
    """Start the run of failures, and disable on ``disable_reason`` or after ``failing_for``."""
    await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.failing_since.is_(None))
        .values(failing_since=now)
        .execution_options(synchronize_session=False)
    )
    stmt = update(Webhook).where(Webhook.id == webhook_id, Webhook.enabled.is_(True))
    if disable_reason is None:
        stmt = stmt.where(Webhook.failing_since <= now - failing_for)
        disable_reason = f"nothing but failures for {failing_for.days} days"
    await session.execute(
        stmt.values(
            enabled=False, disabled_reason=disable_reason, updated_at=now
        ).execution_options(synchronize_session=False)
    )


async def delivery_page(
    session: AsyncSession, webhook_id: str, status: str | None, page: PageParams
) -> tuple[Sequence[Any], str | None]:
    """One page of an endpoint's deliveries, oldest first, with their event's id and type."""
    stmt = (
        select(WebhookDelivery, Event.id.label("event_id"), Event.type.label("event_type"))
        .join(Event, Event.seq == WebhookDelivery.event_seq)
        .where(WebhookDelivery.webhook_id == webhook_id)
    )
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    if page.cursor is not None:
        stmt = stmt.where(WebhookDelivery.id > decode_cursor(page.cursor))
    rows = (await session.execute(stmt.order_by(WebhookDelivery.id).limit(page.limit + 1))).all()
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, encode_cursor(rows[-1][0].id)


async def prune(
    session: AsyncSession,
    *,
    deliveries_before: datetime | None,
    events_before: datetime | None,
    fanned_out: tuple[int, int],
    batch: int,
) -> int:
    """Delete one bounded batch of finished deliveries (and old events when configured)."""
    removed = 0
    if deliveries_before is not None:
        old = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status != "pending", WebhookDelivery.updated_at < deliveries_before
            )
            .limit(batch)
            .scalar_subquery()
        )
        result = await session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.id.in_(old)).returning(WebhookDelivery.id)
        )
        removed += len(result.all())
    if events_before is not None:
        referenced = select(WebhookDelivery.event_seq)
        old_events = (
            select(Event.seq)
            .where(
                Event.occurred_at < events_before,
                tuple_(Event.xid, Event.seq) <= tuple_(*fanned_out),
                Event.seq.not_in(referenced),
            )
            .limit(batch)
            .scalar_subquery()
        )
        result = await session.execute(
            delete(Event).where(Event.seq.in_(old_events)).returning(Event.seq)
        )
        removed += len(result.all())
    return removed


async def oldest_pending(session: AsyncSession) -> datetime | None:
    found: datetime | None = await session.scalar(
        select(func.min(WebhookDelivery.created_at)).where(WebhookDelivery.status == "pending")
    )
    return found
