"""The event vocabulary: types, the keys ``data`` may carry, subscription patterns."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, false, or_, true

from service.core.errors import ValidationFailed
from service.core.i18n import msg
from service.models import Event
from service.models.enums import EnrollmentStatus, values

EVENT_TYPES: frozenset[str] = frozenset(
    [
        "applicant.registered",
        "applicant.updated",
        "applicant.linked",
        "applicant.identity_corrected",
        *(f"enrollment.{s}" for s in values(EnrollmentStatus)),
        "certificate.issued",
        "certificate.revoked",
        "cohort.created",
        "cohort.updated",
        "cohort.started",
        "cohort.completed",
        "cohort.cancelled",
        "attendance.at_risk",
        "outcome.recorded",
        "outcome.due",
    ]
)
FAMILIES: frozenset[str] = frozenset(t.split(".", 1)[0] for t in EVENT_TYPES)

# Sent by POST /webhooks/{id}/test whatever the subscription; never in the feed.
TEST_EVENT = "webhook.test"

# The only keys ``data`` may carry: never a CNIC, name, phone or email.
DATA_KEYS: frozenset[str] = frozenset(
    [
        "applicant_id",
        "enrollment_id",
        "cohort_id",
        "cohort",
        "programme",
        "centre",
        "status",
        "from",
        "to",
        "reason",
        "waitlist_position",
        "offer_expires_at",
        "pool",
        "certificate_code",
        "follow_up",
        "percent",
    ]
)

MAX_PATTERNS = 50


def parse_patterns(raw: Iterable[str], field: str) -> tuple[str, ...]:
    """Validated type patterns: a type, ``family.*`` or ``*``; 422 naming ``field``."""
    patterns: list[str] = []
    for item in raw:
        pattern = item.strip()
        if not pattern:
            continue
        known = (
            pattern == "*"
            or pattern in EVENT_TYPES
            or (pattern.endswith(".*") and pattern[:-2] in FAMILIES)
        )
        if not known:
            shown = pattern if len(pattern) <= 64 else pattern[:64] + "…"
            raise ValidationFailed(
                {
                    field: msg(
                        "events.unknown_pattern",
                        "Unknown event type pattern {pattern}: use a type, 'family.*' or '*'.",
                        pattern=repr(shown),
                    )
                }
            )
        if pattern not in patterns:
            patterns.append(pattern)
    if len(patterns) > MAX_PATTERNS:
        raise ValidationFailed(
            {field: msg("events.too_many_patterns", "At most {max} patterns.", max=MAX_PATTERNS)}
        )
    return tuple(patterns)


def matches(event_type: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def type_filter(patterns: Iterable[str] | None) -> ColumnElement[bool]:
    """SQL for ``matches``: None or an empty list means every type."""
    if patterns is None:
        return true()
    clauses: list[ColumnElement[bool]] = []
    for pattern in patterns:
        if pattern == "*":
            return true()
        if pattern.endswith(".*"):
            clauses.append(Event.type.startswith(pattern[:-1], autoescape=True))
        else:
            clauses.append(Event.type == pattern)
    return or_(*clauses) if clauses else false()
