"""Identity corrections (admin): fix a wrong or squatted registration, audited.

The audit event keeps which fields changed, the admin's reason and a keyed
fingerprint of the old values, never the old values themselves: an HMAC-SHA256
under a key derived from ``ENROLL_SECRET_KEY``, over the applicant's id and the
old values. Whoever holds the secret can check a suspected old value
(``fingerprint(secret, id, {"full_name": "..."})`` equals the stored one);
whoever reads only the database or the logs learns nothing. Without
``ENROLL_SECRET_KEY`` the key is random per process: the fingerprint still
hides the values but can no longer be checked after a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants import repository
from service.applicants.access import get_readable
from service.applicants.schemas import IdentityCorrection
from service.core.auth import Actor
from service.events import emit
from service.models import Applicant, ApplicantEvent
from service.models.applicant_event import ApplicantEventType
from service.models.base import utcnow

_PURPOSE = b"enroll/applicant-identity-fingerprint/v1"
_PROCESS_KEY = secrets.token_bytes(32)


def _key(secret: str) -> bytes:
    if not secret:
        return _PROCESS_KEY
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def fingerprint(secret: str, applicant_id: str, values: Mapping[str, Any]) -> str:
    """``v1:<key id>:<hex HMAC>`` of an applicant's values (the key id tells keys apart)."""
    key = _key(secret)
    message = json.dumps(
        {"applicant_id": applicant_id, **{k: str(v) for k, v in values.items()}},
        sort_keys=True,
        ensure_ascii=False,
    ).encode()
    key_id = hashlib.sha256(key).hexdigest()[:8]
    return f"v1:{key_id}:{hmac.new(key, message, hashlib.sha256).hexdigest()}"


async def correct(
    session: AsyncSession,
    actor: Actor,
    applicant_id: str,
    data: IdentityCorrection,
    *,
    secret: str,
) -> Applicant:
    """Set the identity fields sent; one audit event when anything changed."""
    applicant = await get_readable(session, actor, applicant_id)
    changes = {k: v for k, v in data.changes().items() if getattr(applicant, k) != v}
    if not changes:
        return applicant
    old = {name: getattr(applicant, name) for name in changes}
    now = utcnow()
    for name, value in changes.items():
        setattr(applicant, name, value)
    applicant.updated_at = now
    applicant.updated_by_key_id = actor.key_id
    repository.add_event(
        session,
        ApplicantEvent(
            applicant_id=applicant.id,
            type=ApplicantEventType.identity_corrected.value,
            at=now,
            key_id=actor.key_id,
            actor=actor.name,
            reason=data.reason,
            fields=",".join(sorted(changes)),
            old_fingerprint=fingerprint(secret, applicant.id, old),
        ),
    )
    # The outbox: thin, without the reason (free text) or any old value.
    emit(session, "applicant.identity_corrected", {"applicant_id": applicant.id}, at=now)
    await session.flush()
    return applicant
