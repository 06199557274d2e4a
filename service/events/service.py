"""The events feed: what a key may see, in commit order, from a cursor."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.errors import ValidationFailed
from service.core.pagination import CURSOR_INVALID
from service.core.pseudonyms import Pseudonyms, pseudonyms_for
from service.events import repository
from service.events.repository import Position
from service.events.schemas import ChangeEvent, EventFeed
from service.events.types import parse_patterns, type_filter
from service.events.visibility import present, visible_to
from service.models.enums import Role

_CURSOR = re.compile(r"(\d{1,19})\.(\d{1,19})")


def encode_cursor(position: Position) -> str:
    return f"{position[0]}.{position[1]}"


def decode_cursor(cursor: str | None, field: str = "after") -> Position:
    if cursor is None or cursor == "":
        return repository.START
    found = _CURSOR.fullmatch(cursor)
    if found is None:
        raise ValidationFailed({field: CURSOR_INVALID})
    return int(found.group(1)), int(found.group(2))


def parse_types(raw: str | None) -> tuple[str, ...] | None:
    if raw is None or not raw.strip():
        return None
    return parse_patterns(raw.split(","), "types")


def filters(actor: Actor, patterns: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """The one rule (visibility and subscription) for the feed, fan-out and replay."""
    return [visible_to(actor), type_filter(patterns)]


async def presenter_secret(session: AsyncSession, actor: Actor) -> Pseudonyms | None:
    """A reporter's pseudonyms (the completions feed's, so both name an id alike)."""
    if actor.role is not Role.reporter:
        return None
    return await pseudonyms_for(session, actor.key_id)


def to_read(row: Any, actor: Actor, secret: Pseudonyms | None) -> ChangeEvent:
    return ChangeEvent.model_validate(
        present(
            id_=row.id,
            type_=row.type,
            occurred_at=row.occurred_at,
            data=row.data,
            actor=actor,
            pseudonyms=secret,
        )
    )


async def feed(
    session: AsyncSession, actor: Actor, *, after: str | None, types: str | None, limit: int
) -> EventFeed:
    start = decode_cursor(after)
    patterns = parse_types(types)
    bound = await repository.horizon(session)
    rows = await repository.page(session, bound, start, filters(actor, patterns), limit)
    secret = await presenter_secret(session, actor)
    items = [to_read(row, actor, secret) for row in rows]
    if len(rows) == limit:
        return EventFeed(items=items, next_cursor=encode_cursor((rows[-1].xid, rows[-1].seq)))
    # A short page has every final event this key may see: move past the others too.
    last = await repository.last_final(session, bound)
    position = max(start, last) if last is not None else start
    return EventFeed(items=items, next_cursor=encode_cursor(position))
