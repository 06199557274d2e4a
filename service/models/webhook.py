from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, BigIntPK, IdMixin, TimestampMixin, enum_check

DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class Webhook(IdMixin, TimestampMixin, Base):
    """A partner's endpoint: events of the owning key's visibility, matching ``events``."""

    __tablename__ = "webhooks"

    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # JSON list of type patterns ("enrollment.*", "certificate.issued").
    events: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    # whsec_... ; kept so that the dispatcher can sign.
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    # First failure of the current run of failures (None after a success).
    failing_since: Mapped[datetime | None]


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    """One event to one endpoint: retried until a 2xx or the schedule runs out."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(enum_check("status", DELIVERY_STATUSES), name="status"),
        Index(None, "status", "next_attempt_at"),
        Index(None, "webhook_id", "id"),
    )

    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_seq: Mapped[int] = mapped_column(ForeignKey("events.seq"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    # A dispatcher's claim: it owns the attempt until ``leased_until``.
    leased_by: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None]


class WebhookFanout(Base):
    """One row: how far the dispatchers have turned events into deliveries."""

    __tablename__ = "webhook_fanout"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    after_xid: Mapped[int] = mapped_column(BigInteger, default=0)
    after_seq: Mapped[int] = mapped_column(BigInteger, default=0)
