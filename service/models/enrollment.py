from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, IdMixin, StrEnumType, TimestampMixin, enum_check
from service.models.enums import EnrollmentStatus, values

_LIVE = text("status IN ('enrolled', 'waitlisted', 'offered')")
_OFFERED = text("status = 'offered'")


class Enrollment(IdMixin, TimestampMixin, Base):
    """An applicant in a cohort, moving through the enrollment lifecycle."""

    __tablename__ = "enrollments"
    __table_args__ = (
        CheckConstraint(enum_check("status", values(EnrollmentStatus)), name="status"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        CheckConstraint(
            "attendance IS NULL OR (attendance >= 0 AND attendance <= 100)",
            name="attendance_range",
        ),
        # Never two live enrollments of one applicant in one cohort.
        Index(
            "uq_enrollments_live_applicant",
            "cohort_id",
            "applicant_id",
            unique=True,
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        # FIFO waitlist and per-status listings of a cohort.
        Index(None, "cohort_id", "status", "queue_no"),
        Index(None, "applicant_id"),
        # Pending offers by expiry: the sweep (all cohorts) and one cohort's due offers.
        Index(
            "ix_enrollments_offer_expiry",
            "offer_expires_at",
            postgresql_where=_OFFERED,
            sqlite_where=_OFFERED,
        ),
        Index(
            "ix_enrollments_cohort_offer_expiry",
            "cohort_id",
            "offer_expires_at",
            postgresql_where=_OFFERED,
            sqlite_where=_OFFERED,
        ),
    )

    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"))
    applicant_id: Mapped[str] = mapped_column(ForeignKey("applicants.id"))
    status: Mapped[EnrollmentStatus] = mapped_column(StrEnumType(EnrollmentStatus))
    # Order of the request within its cohort (from Cohort.queue_seq).
    queue_no: Mapped[int]
    score: Mapped[float | None]
    attendance: Mapped[float | None]
    completed_at: Mapped[datetime | None]
    # While offered: the instant the offer expires (it is expired from then on).
    offer_expires_at: Mapped[datetime | None]
    # The reserved-seat pool (its code) whose seat this enrollment holds or was
    # offered; null for an open seat and while waitlisted.
    pool: Mapped[str | None] = mapped_column(String(64))
    completed_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    created_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
