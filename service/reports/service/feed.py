"""The completions feed: completions and revocations in commit order, with a cursor."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.normalise import age_on
from service.core.auth import Actor
from service.core.errors import ValidationFailed
from service.core.i18n import msg
from service.reports.audience import audience_for
from service.reports.repository import feed as repository
from service.reports.repository.expressions import age_band
from service.reports.schemas import Feed, FeedItem

_CURSOR_PREFIX = "feed:"


def encode_feed_cursor(position: int) -> str:
    raw = f"{_CURSOR_PREFIX}{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_feed_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raw = ""
    value = raw.removeprefix(_CURSOR_PREFIX)
    if not raw.startswith(_CURSOR_PREFIX) or not value.isdigit() or len(value) > 18:
        raise ValidationFailed(
            {"after": msg("after.invalid", "Not a cursor returned by this feed.")}
        )
    return int(value)


def age_band_of(row: Any) -> str:
    """The age band of a completion row (birth date against the cohort's start)."""
    return age_band(age_on(row.date_of_birth, row.start_date))


async def feed(session: AsyncSession, actor: Actor, *, after: str | None, limit: int) -> Feed:
    """One page after ``after``, as the key may see it (see ``audience``)."""
    position = decode_feed_cursor(after)
    audience = await audience_for(session, actor)
    rows = await repository.feed_page(
        session, after=position, limit=limit, centre_ids=audience.centre_ids
    )
    items = []
    for row in rows:
        revocation = row.kind == "revocation"
        items.append(
            FeedItem(
                position=row.position,
                kind=row.kind,
                enrollment_id=audience.enrollment_id(row.enrollment_id),
                applicant_id=audience.applicant_id(row.applicant_id),
                cnic=audience.cnic(row.cnic),
                programme=row.programme,
                cohort=row.cohort,
                track=row.track,
                centre=row.centre,
                province=row.province,
                district=row.district,
                gender=row.gender,
                age_band=age_band_of(row),
                score=row.score,
                attendance=row.attendance,
                completed_at=row.completed_at,
                certificate_code=audience.certificate_code(row.certificate_code),
                revoked_at=(row.revoked_at or row.at) if revocation else None,
                reason=row.revoked_reason if revocation else None,
            )
        )
    last = items[-1].position if items else position
    return Feed(items=items, next_cursor=encode_feed_cursor(last))
