from datetime import date

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedMixin, IdMixin


class AttendanceSession(IdMixin, CreatedMixin, Base):
    """One class meeting of a cohort on a date (two may share a date)."""

    __tablename__ = "attendance_sessions"
    __table_args__ = (Index(None, "cohort_id", "date"),)

    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"))
    date: Mapped[date]
    topic: Mapped[str | None] = mapped_column(String(200))
    created_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
