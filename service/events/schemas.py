from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ChangeEvent(BaseModel):
    """``{"id", "type", "timestamp", "data"}``: data is thin, never personal data."""

    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any]


class EventFeed(BaseModel):
    items: list[ChangeEvent]
    # Never null: with no new events it repeats (or moves past what the key cannot see).
    next_cursor: str
