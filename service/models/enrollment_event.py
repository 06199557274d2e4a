from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, BigIntPK, StrEnumType, utcnow
from service.models.enums import EnrollmentStatus


class EnrollmentEvent(Base):
    """Append-only audit trail of every enrollment status change."""

    __tablename__ = "enrollment_events"
    __table_args__ = (Index(None, "enrollment_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    enrollment_id: Mapped[str] = mapped_column(ForeignKey("enrollments.id"))
    from_status: Mapped[EnrollmentStatus | None] = mapped_column(StrEnumType(EnrollmentStatus))
    to_status: Mapped[EnrollmentStatus] = mapped_column(StrEnumType(EnrollmentStatus))
    # The API key name that caused the change (or "system" / "cli").
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)
