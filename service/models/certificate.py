from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, IdMixin, utcnow


class Certificate(IdMixin, Base):
    """Issued for a completed enrollment; verifiable by its code without a token."""

    __tablename__ = "certificates"

    # Canonical upper-case dashed form, e.g. ZTE-7K3M-9QXA-2WPD.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    enrollment_id: Mapped[str] = mapped_column(ForeignKey("enrollments.id"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
