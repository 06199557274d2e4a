"""``Idempotency-Key`` for create endpoints.

Scoped to (API key, method, path). The first request with a key inserts a
placeholder row inside its own transaction; a concurrent twin blocks on the
unique index until the first commits, then replays its answer. Only 2xx
answers are kept: a failed request rolls the placeholder back with everything
else, so it may be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor, get_actor
from service.core.config import get_settings
from service.core.db import SessionDep
from service.core.errors import ServiceError, ValidationFailed
from service.core.i18n import msg
from service.models import IdempotencyRecord
from service.models.base import utcnow

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# The ``path`` column's width. A longer path (only a malformed id makes one), or one
# with a character no text column takes (NUL), is stored as its digest: it still
# scopes the key, and the request goes on to the answer it gets without an
# Idempotency-Key (a 404 or 422 naming the id).
MAX_PATH_LENGTH = 500


def stored_path(path: str) -> str:
    """The request path as the ``path`` column keeps it: as is, or its SHA-256."""
    if len(path) <= MAX_PATH_LENGTH and path.isprintable():
        return path
    return "sha256:" + hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


class IdempotentReplay(Exception):
    """Raised to answer with the stored first response (see ``main.create_app``)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__("replay")
        self.status = status
        self.body = body

    def response(self) -> Response:
        return Response(
            self.body,
            status_code=self.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )


def request_fingerprint(body: bytes) -> str:
    """SHA-256 of the body, with JSON canonicalised so key order and spacing don't matter."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


@dataclass
class Idempotency:
    """Handle given to a create endpoint; ``respond`` stores and returns its answer."""

    session: AsyncSession
    record: IdempotencyRecord | None

    async def respond(self, status: int, payload: BaseModel | Any) -> Response:
        if isinstance(payload, BaseModel):
            body = payload.model_dump_json()
        else:
            body = json.dumps(jsonable_encoder(payload), separators=(",", ":"), ensure_ascii=False)
        if self.record is not None:
            self.record.status_code = status
            self.record.response_body = body
            self.record.completed_at = utcnow()
            await self.session.flush()
        return Response(body, status_code=status, media_type="application/json")


async def _find(
    session: AsyncSession, actor: Actor, method: str, path: str, key: str
) -> IdempotencyRecord | None:
    return await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == actor.key_id,
            IdempotencyRecord.method == method,
            IdempotencyRecord.path == path,
            IdempotencyRecord.key == key,
        )
    )


def _check(record: IdempotencyRecord, fingerprint: str) -> None:
    if record.request_hash != fingerprint:
        reused = msg(
            "idempotency_key.reused",
            "This key was already used with a different request body.",
        )
        raise ValidationFailed({HEADER: reused})
    if record.status_code is not None and record.response_body is not None:
        raise IdempotentReplay(record.status_code, record.response_body)


async def get_idempotency(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, Depends(get_actor)],
    key: Annotated[str | None, Header(alias=HEADER)] = None,
) -> Idempotency:
    if key is None:
        return Idempotency(session, None)
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            {
                HEADER: msg(
                    "idempotency_key.invalid",
                    "Use 1 to {max} printable characters.",
                    max=MAX_KEY_LENGTH,
                )
            }
        )
    fingerprint = request_fingerprint(await request.body())
    method, path = request.method, stored_path(request.url.path)

    ttl = timedelta(hours=get_settings().idempotency_ttl_hours)
    existing = await _find(session, actor, method, path, key)
    if existing is not None and existing.created_at < utcnow() - ttl:
        await session.delete(existing)
        await session.flush()
        existing = None
    if existing is not None:
        _check(existing, fingerprint)

    record = IdempotencyRecord(
        api_key_id=actor.key_id, method=method, path=path, key=key, request_hash=fingerprint
    )
    try:
        async with session.begin_nested():
            session.add(record)
    except IntegrityError:
        # A twin request holds the key; it has committed by now (the insert waited for it).
        twin = await _find(session, actor, method, path, key)
        if twin is not None:
            await session.refresh(twin)
            _check(twin, fingerprint)
        raise IdempotentReplayUnavailable() from None
    return Idempotency(session, record)


class IdempotentReplayUnavailable(ServiceError):
    status, title, slug = 409, "Request in progress", "idempotency-in-progress"

    def __init__(self) -> None:
        super().__init__(
            msg(
                "idempotency_key.in_progress",
                "Another request with this Idempotency-Key has not finished; retry shortly.",
            ),
            headers={"Retry-After": "1"},
        )


async def purge_expired(
    session: AsyncSession, *, ttl_hours: int, now: datetime | None = None
) -> int:
    """Delete records older than the retention window (answers kept past it carry
    personal data nobody may replay any more); returns how many."""
    cutoff = (now or utcnow()) - timedelta(hours=ttl_hours)
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
