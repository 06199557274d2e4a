from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, IdMixin


class CohortPool(IdMixin, Base):
    """A reserved-seat pool of a cohort (contract: Reserved seats).

    ``position`` is the pool's place in the cohort's ``reserved`` list (an
    applicant matching two pools takes the first with a free seat); ``rule`` is
    JSON text ``{"gender"?: [...], "province"?: [...], "district"?: [...]}`` with
    canonical values. ``taken`` counts the seat-holding enrollments whose
    ``pool`` is this code, kept under the cohort's lock like the cohort's
    counters. ``released_at`` is set when the release (``release_on``, at the
    latest the cohort's start) is materialised; every read applies the release
    from its instant whether or not it is (``service.seats.pools``).
    """

    __tablename__ = "cohort_pools"
    __table_args__ = (
        UniqueConstraint("cohort_id", "code"),
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint("taken >= 0 AND taken <= seats", name="taken_within"),
    )

    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(64))
    seats: Mapped[int]
    rule: Mapped[str] = mapped_column(Text)
    release_on: Mapped[date | None]
    released_at: Mapped[datetime | None]
    taken: Mapped[int] = mapped_column(default=0, server_default="0")
