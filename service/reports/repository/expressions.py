"""SQL expressions shared by breakdowns, the feed and the export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal_column

from service.models import Applicant, Certificate, Cohort, Enrollment
from service.models.base import UTCDateTime
from service.models.enums import REPORTED_ENROLLMENT_STATUSES

SEATED = tuple(s.value for s in REPORTED_ENROLLMENT_STATUSES)

AGE_BANDS: list[tuple[int, int | None, str]] = [
    (15, 17, "15-17"),
    (18, 24, "18-24"),
    (25, 29, "25-29"),
    (30, 35, "30-35"),
    (36, None, "36+"),
]


def age_band(age: int) -> str:
    for low, high, label in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return "under-15"


def band_sql(age: ColumnElement[int]) -> ColumnElement[str]:
    whens: list[tuple[ColumnElement[bool], str]] = []
    for low, high, label in AGE_BANDS:
        cond = age >= low if high is None else and_(age >= low, age <= high)
        whens.append((cond, label))
    return case(*whens, else_="under-15")


def age_at_start(dialect: str) -> ColumnElement[Any]:
    """Whole years between the applicant's birth and the cohort's start."""
    if dialect == "postgresql":
        return cast(
            func.date_part("year", func.age(Cohort.start_date, Applicant.date_of_birth)), Integer
        )
    return literal_column(
        "(CAST(strftime('%Y', cohorts.start_date) AS INTEGER)"
        " - CAST(strftime('%Y', applicants.date_of_birth) AS INTEGER)"
        " - (strftime('%m-%d', cohorts.start_date) < strftime('%m-%d', applicants.date_of_birth)))"
    )


def age_band_sql(dialect: str) -> ColumnElement[Any]:
    return band_sql(age_at_start(dialect))


def month_sql(dialect: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def completion_time() -> ColumnElement[Any]:
    return func.coalesce(Enrollment.completed_at, Certificate.issued_at, type_=UTCDateTime())
