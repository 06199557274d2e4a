"""Who sees which event: one rule for the feed, webhook subscriptions and replays.

- admin: every event;
- staff: the events of its centres' cohorts and every ``applicant.*`` (an
  unscoped staff key: every event);
- client: only events about applicants it may read (those it registered);
- reporter: only ``certificate.*``, without ``certificate_code`` and with
  ``enrollment_id`` / ``applicant_id`` pseudonymised for its key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, true

from service.applicants.access import readable_by
from service.core.auth import Actor
from service.models import Applicant, Event
from service.models.enums import Role

PSEUDONYMISED = ("enrollment_id", "applicant_id")
HIDDEN_FROM_REPORTER = ("certificate_code",)


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on ``events`` limiting them to those ``actor`` may see."""
    if actor.role is Role.admin:
        return true()
    if actor.role is Role.staff:
        if actor.centre_ids is None:
            return true()
        return or_(
            Event.type.startswith("applicant."), Event.centre_id.in_(sorted(actor.centre_ids))
        )
    if actor.role is Role.client:
        return exists().where(Applicant.id == Event.applicant_id, readable_by(actor))
    if actor.role is Role.reporter:
        return Event.type.startswith("certificate.")
    return false()


def pseudonymise(key: str, real_id: str) -> str:
    """A stable pseudonym of ``real_id`` for one API key, not derivable without ``key``.

    ``key`` is secret material of the reading API key (its token hash, never
    shown anywhere): the same key always gets the same pseudonym, two keys get
    unrelated ones. Formatted like the ids it replaces.
    """
    digest = hmac.new(key.encode(), real_id.encode(), hashlib.sha256).digest()[:16]
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def present(
    *, id_: str, type_: str, occurred_at: Any, data: str, actor: Actor, key_secret: str | None
) -> dict[str, Any]:
    """The event as ``actor`` may receive it: ``{"id", "type", "timestamp", "data"}``."""
    body: dict[str, Any] = json.loads(data)
    if actor.role is Role.reporter:
        for name in HIDDEN_FROM_REPORTER:
            body.pop(name, None)
        secret = key_secret or actor.key_id
        for name in PSEUDONYMISED:
            if isinstance(body.get(name), str):
                body[name] = pseudonymise(secret, body[name])
    return {"id": id_, "type": type_, "timestamp": occurred_at, "data": body}
