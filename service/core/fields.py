"""Field types shared by request schemas and query parameters."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

from service.core.i18n import msg
from service.core.validation_messages import MessageError

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


DATE = msg("word.date", "date")


def parse_iso_date(value: Any, what: str = DATE) -> date:
    """``YYYY-MM-DD`` and nothing else.

    pydantic's lax ``date`` also takes a number (as seconds since 1970: ``0`` is
    1970-01-01) and ``date.fromisoformat`` takes ``20310101`` and week dates;
    the contract's dates are ``YYYY-MM-DD``, so anything else is a 422.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise MessageError(msg("date.format", "Give the {what} as YYYY-MM-DD.", what=what))
    text = value.strip()
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise MessageError(msg("date.not_real", "Give a real {what} as YYYY-MM-DD.", what=what))


IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
