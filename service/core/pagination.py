"""Cursor pagination: ``?limit=&cursor=`` in, ``{"items", "next_cursor"}`` out.

Ids are time-ordered (see ``new_id``), so keyset pagination on the id column
gives creation order and never skips or repeats a row between pages.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from service.core.errors import ValidationFailed
from service.core.i18n import msg
from service.core.sql import AnyRow, AnySelect

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


CURSOR_INVALID = msg("cursor.invalid", "Not a cursor returned by this API.")


def decode_cursor(cursor: str, field: str = "cursor") -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        value = ""
    if not _ID.fullmatch(value):
        raise ValidationFailed({field: CURSOR_INVALID})
    return value


class PageParams(BaseModel):
    limit: int
    cursor: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    key: InstrumentedAttribute[str],
    params: PageParams,
) -> tuple[Sequence[Any], str | None]:
    """Run ``stmt`` one page at a time, ordered by the unique string column ``key``."""
    if params.cursor is not None:
        stmt = stmt.where(key > decode_cursor(params.cursor))
    rows = (await session.scalars(stmt.order_by(key).limit(params.limit + 1))).all()
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    return rows, encode_cursor(getattr(rows[-1], key.key))


async def paginate_rows(
    session: AsyncSession,
    stmt: AnySelect,
    key: InstrumentedAttribute[str],
    params: PageParams,
) -> tuple[Sequence[AnyRow], str | None]:
    """Like ``paginate`` for statements selecting several columns."""
    if params.cursor is not None:
        stmt = stmt.where(key > decode_cursor(params.cursor))
    stmt = stmt.add_columns(key.label("page_key")).order_by(key).limit(params.limit + 1)
    rows = (await session.execute(stmt)).all()
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    return rows, encode_cursor(rows[-1].page_key)
