"""Standard Webhooks v1: secrets and signatures, with the maintained ``standardwebhooks``."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's marker, not a secret


def new_secret() -> str:
    """``whsec_`` + 32 random bytes in base64 (the format receivers' libraries take)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def headers(
    event_id: str, at: datetime, body: bytes, live_secrets: Iterable[str]
) -> dict[str, str]:
    """The three headers for ``body`` (the exact bytes sent), one signature per live secret."""
    text = body.decode()
    signatures = [Webhook(s).sign(msg_id=event_id, timestamp=at, data=text) for s in live_secrets]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
