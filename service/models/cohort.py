from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, IdMixin, StrEnumType, TimestampMixin, enum_check
from service.models.enums import CohortMode, CohortStatus, WaitlistMode, values


class Cohort(IdMixin, TimestampMixin, Base):
    """A batch of one track at one centre, with dates and a seat capacity.

    ``seats_taken`` and ``waitlist_length`` are counters kept in the same
    transaction as the enrollment rows they count (``seats_taken`` includes the
    ``offers_pending``); ``queue_seq`` hands out the FIFO order of requests
    (``Enrollment.queue_no``). Offers past their expiry still count until they
    are materialised; every read subtracts them (``service.seats.offers``).
    """

    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within"),
        CheckConstraint("waitlist_length >= 0", name="waitlist_nonnegative"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("min_age <= max_age", name="ages_ordered"),
        CheckConstraint("pass_score >= 0 AND pass_score <= 100", name="pass_score_range"),
        CheckConstraint(
            "min_attendance >= 0 AND min_attendance <= 100", name="min_attendance_range"
        ),
        CheckConstraint(enum_check("mode", values(CohortMode)), name="mode"),
        CheckConstraint(enum_check("status", values(CohortStatus)), name="status"),
        CheckConstraint(enum_check("waitlist_mode", values(WaitlistMode)), name="waitlist_mode"),
        CheckConstraint("offer_hours >= 1 AND offer_hours <= 168", name="offer_hours_range"),
        CheckConstraint("offers_pending >= 0", name="offers_nonnegative"),
        Index(None, "programme_id", "status"),
        Index(None, "centre_id", "status"),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"))
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    name: Mapped[str] = mapped_column(String(200))
    track: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date]
    end_date: Mapped[date]
    capacity: Mapped[int]
    mode: Mapped[CohortMode] = mapped_column(StrEnumType(CohortMode))
    min_age: Mapped[int] = mapped_column(default=18)
    max_age: Mapped[int] = mapped_column(default=35)
    pass_score: Mapped[int] = mapped_column(default=50)
    min_attendance: Mapped[int] = mapped_column(default=75)
    status: Mapped[CohortStatus] = mapped_column(
        StrEnumType(CohortStatus), default=CohortStatus.open
    )
    seats_taken: Mapped[int] = mapped_column(default=0)
    waitlist_length: Mapped[int] = mapped_column(default=0)
    queue_seq: Mapped[int] = mapped_column(default=0)
    waitlist_mode: Mapped[WaitlistMode] = mapped_column(
        StrEnumType(WaitlistMode, 8),
        default=WaitlistMode.auto,
        server_default=WaitlistMode.auto.value,
    )
    offer_hours: Mapped[int] = mapped_column(default=48, server_default="48")
    offers_pending: Mapped[int] = mapped_column(default=0, server_default="0")
    # How many reserved-seat pools (``CohortPool``) the cohort has: 0 keeps the
    # enrollment hot path's one statement, anything else takes the locked path.
    pool_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
