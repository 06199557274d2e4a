"""The completion row that the feed and the export share: columns, joins, scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.sql.elements import KeyedColumnElement

from service.models import Applicant, Centre, Certificate, Cohort, Enrollment, Programme
from service.reports.repository.expressions import completion_time


def completion_columns() -> list[KeyedColumnElement[Any]]:
    """A completion's raw values (the service formats them for each audience)."""
    return [
        Enrollment.id.label("enrollment_id"),
        Enrollment.applicant_id.label("applicant_id"),
        Applicant.cnic.label("cnic"),
        Programme.code.label("programme"),
        Cohort.code.label("cohort"),
        Cohort.track.label("track"),
        Centre.code.label("centre"),
        Applicant.province.label("province"),
        Applicant.district.label("district"),
        Applicant.gender.label("gender"),
        Applicant.date_of_birth.label("date_of_birth"),
        Cohort.start_date.label("start_date"),
        Enrollment.score.label("score"),
        Enrollment.attendance.label("attendance"),
        completion_time().label("completed_at"),
        Certificate.code.label("certificate_code"),
    ]


def contact_columns() -> list[KeyedColumnElement[Any]]:
    return [
        Applicant.full_name.label("full_name"),
        Applicant.email.label("email"),
        Applicant.phone.label("phone"),
    ]


def joined(stmt: Select[Any], centre_ids: frozenset[str] | None) -> Select[Any]:
    """``stmt`` (from enrollments) joined to its cohort, programme, centre and applicant,
    limited to ``centre_ids`` when given (a centre-scoped staff key)."""
    stmt = (
        stmt.join(Cohort, Cohort.id == Enrollment.cohort_id)
        .join(Programme, Programme.id == Cohort.programme_id)
        .join(Centre, Centre.id == Cohort.centre_id)
        .join(Applicant, Applicant.id == Enrollment.applicant_id)
    )
    if centre_ids is not None:
        stmt = stmt.where(Cohort.centre_id.in_(sorted(centre_ids)))
    return stmt


def live_completions(
    columns: Sequence[ColumnElement[Any]], centre_ids: frozenset[str] | None
) -> Select[Any]:
    """``columns`` for every live completion, oldest enrollment first (both CSV exports)."""
    stmt = (
        select(*columns)
        .select_from(Enrollment)
        .join(
            Certificate,
            and_(Certificate.enrollment_id == Enrollment.id, Certificate.revoked_at.is_(None)),
        )
        .where(Enrollment.status == "completed")
    )
    return joined(stmt, centre_ids).order_by(Enrollment.id)
