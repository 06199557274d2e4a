from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, BigIntPK, utcnow


class AttendanceMarkChange(Base):
    """Append-only history of marks: who marked whom at which session, old → new."""

    __tablename__ = "attendance_mark_changes"
    __table_args__ = (Index(None, "session_id", "enrollment_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("attendance_sessions.id"))
    enrollment_id: Mapped[str] = mapped_column(ForeignKey("enrollments.id"))
    # None for the first mark.
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    # The API key name that marked (as enrollment events record it).
    actor: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
