from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, BigIntPK, enum_check, utcnow
from service.models.enums import AttendanceStatus, values


class AttendanceMark(Base):
    """The current mark of one enrollment at one session: at most one (last write wins)."""

    __tablename__ = "attendance_marks"
    __table_args__ = (
        UniqueConstraint("session_id", "enrollment_id"),
        CheckConstraint(enum_check("status", values(AttendanceStatus)), name="status"),
        Index(None, "enrollment_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("attendance_sessions.id"))
    enrollment_id: Mapped[str] = mapped_column(ForeignKey("enrollments.id"))
    status: Mapped[str] = mapped_column(String(16))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
    marked_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
