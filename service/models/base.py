"""Declarative base, column types and mixins shared by every table."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Auto-incrementing 64-bit key that is a rowid alias on SQLite.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


_last_id = 0
_id_lock = threading.Lock()
# Random bytes for ids, read from the OS in blocks: one getrandom() per 409 ids
# instead of one per id. Each call releases the GIL, and getting it back while
# another thread computes (the CSV import parses in one) cost ~100 µs an id.
_RANDOM_BLOCK = 4090
_random = b""
_random_at = 0


def _forget_random() -> None:
    """A forked child must not reuse its parent's unread bytes (same ids in both)."""
    global _random, _random_at
    _random, _random_at = b"", 0


os.register_at_fork(after_in_child=_forget_random)


def new_id() -> str:
    """A UUIDv7-style id: time-ordered, so ordering by id is creation order.

    Within one process ids strictly increase, even within one millisecond
    (RFC 9562's monotonic random: the next id is the previous one plus a
    random increment when the clock has not moved on).
    """
    global _last_id, _random, _random_at
    ms = time.time_ns() // 1_000_000
    with _id_lock:
        if _random_at >= len(_random):
            _random, _random_at = os.urandom(_RANDOM_BLOCK), 0
        rand = int.from_bytes(_random[_random_at : _random_at + 10], "big")
        _random_at += 10
        value = (ms & ((1 << 48) - 1)) << 80
        value |= 0x7 << 76  # version 7
        value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits
        value |= 0b10 << 62  # RFC 4122 variant
        value |= rand & ((1 << 62) - 1)
        if value <= _last_id:
            # Same millisecond: step the 62 low random bits forward.
            value = _last_id + 1 + (rand & 0xFFFF)
        _last_id = value
    return str(uuid.UUID(int=value))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value)}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A closed vocabulary stored as its string value (the table's CHECK constraint guards it).

    Values read back are members of the enum, so ``Mapped[Status]`` is what the code gets;
    binding refuses a string outside the vocabulary before it reaches the database.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class CreatedMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TimestampMixin(CreatedMixin):
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def enum_check(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK that ``column`` holds one of ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
