"""Who sees which event: one rule for the feed, webhook subscriptions and replays.

- admin: every event;
- staff: the events of its centres' cohorts and every ``applicant.*`` (an
  unscoped staff key: every event);
- client: only events about applicants it may read (those it registered);
- reporter: only ``certificate.*``, without ``certificate_code`` and with
  ``enrollment_id`` / ``applicant_id`` pseudonymised for its key.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, true

from service.core.auth import Actor
from service.core.pseudonyms import IdKind, Pseudonyms
from service.core.scope import applicants_readable_by as readable_by
from service.models import Applicant, Event
from service.models.enums import Role

# Ids a reporter receives as pseudonyms, exactly as in the completions feed.
PSEUDONYMISED: dict[str, IdKind] = {"enrollment_id": "enrollment", "applicant_id": "applicant"}
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


def present(
    *,
    id_: str,
    type_: str,
    occurred_at: Any,
    data: str,
    actor: Actor,
    pseudonyms: Pseudonyms | None,
) -> dict[str, Any]:
    """The event as ``actor`` may receive it: ``{"id", "type", "timestamp", "data"}``."""
    body: dict[str, Any] = json.loads(data)
    if actor.role is Role.reporter:
        for name in HIDDEN_FROM_REPORTER:
            body.pop(name, None)
        if pseudonyms is None:
            raise ValueError("a reporter's events need its pseudonyms")
        for name, kind in PSEUDONYMISED.items():
            if isinstance(body.get(name), str):
                body[name] = pseudonyms.of(kind, body[name])
    return {"id": id_, "type": type_, "timestamp": occurred_at, "data": body}
