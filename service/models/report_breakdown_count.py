from datetime import date

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ReportBreakdownCount(Base):
    """Trigger-maintained counts behind ``/reports/breakdown`` (PostgreSQL).

    One row per cohort, metric, day and the applicant attributes a breakdown
    groups by: ``enrollments`` counts seat-holding enrollments by the day they
    were created, ``completions`` live completions by the day they were
    completed. ``age`` is the applicant's age on the cohort's start date.
    Track, centre and programme come from the cohort. A breakdown sums a few
    thousand of these rows instead of joining a million enrollments.

    SQLite (the embedded, single-writer database) keeps no rows here: its
    breakdowns read the base tables.
    """

    __tablename__ = "report_breakdown_counts"

    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(String(16), primary_key=True)
    district: Mapped[str] = mapped_column(String(80), primary_key=True)
    gender: Mapped[str] = mapped_column(String(16), primary_key=True)
    age: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
