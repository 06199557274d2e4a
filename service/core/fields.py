"""Field types shared by request schemas and query parameters."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_iso_date(value: Any, what: str = "date") -> date:
    """``YYYY-MM-DD`` and nothing else.

    pydantic's lax ``date`` also takes a number (as seconds since 1970: ``0`` is
    1970-01-01) and ``date.fromisoformat`` takes ``20310101`` and week dates;
    the contract's dates are ``YYYY-MM-DD``, so anything else is a 422.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"Give the {what} as YYYY-MM-DD.")
    text = value.strip()
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(f"Give a real {what} as YYYY-MM-DD.")


IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
