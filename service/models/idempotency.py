from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedMixin, IdMixin


class IdempotencyRecord(IdMixin, CreatedMixin, Base):
    """The first 2xx answer to a create request sent with an Idempotency-Key."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("api_key_id", "method", "path", "key"),
        Index(None, "created_at"),
    )

    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    # NULL while the first request is still in flight.
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
