"""The completions CSV: its one column list, and the query behind each export path.

PostgreSQL formats the CSV itself (``COPY (query) TO STDOUT``, about 100,000
rows/s): :func:`copy_query` selects every cell as the text it must read.
SQLite streams :func:`rows_query`'s raw values and the service formats them
(``service/reports/service/export.py``), cell for cell the same; a test
compares the two. Both neutralise every cell with the one rule of
``service/core/csvcells.py`` and show it to the key's audience
(``service/reports/audience.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal_column
from sqlalchemy.dialects import postgresql

from service.core.csvcells import neutralise_sql
from service.models import Applicant, Centre, Certificate, Cohort, Enrollment, Programme
from service.reports.audience import Audience
from service.reports.repository.completions import (
    completion_columns,
    contact_columns,
    live_completions,
)
from service.reports.repository.expressions import age_band_sql, completion_time

STANDARD_COLUMNS = (
    "enrollment_id",
    "applicant_id",
    "cnic",
    "programme",
    "cohort",
    "track",
    "centre",
    "province",
    "district",
    "gender",
    "age_band",
    "score",
    "attendance",
    "completed_at",
    "certificate_code",
)
# Added by ``fields=full`` (staff and admin).
CONTACT_COLUMNS = ("full_name", "email", "phone")
# Cells the service shapes itself, which cannot start with a formula lead:
# ids and pseudonyms (hex UUIDs), CHECK-constrained enums, the age band's
# labels, scores in 0..100 and ISO timestamps. COPY leaves them as they are:
# the neutralising CASE repeats its cell's expression (a pseudonym's SHA-256s,
# the timestamp's to_char) and cost the export about a third of its speed.
# Every other cell is stored text and is neutralised on both paths (the
# Python path neutralises every cell; on these it changes nothing).
SHAPED = frozenset(
    {
        "enrollment_id",
        "applicant_id",
        "province",
        "gender",
        "age_band",
        "score",
        "attendance",
        "completed_at",
    }
)


def columns(*, full: bool) -> tuple[str, ...]:
    """The CSV's header, in order."""
    return STANDARD_COLUMNS + (CONTACT_COLUMNS if full else ())


def rows_query(audience: Audience, *, full: bool) -> Select[Any]:
    """Raw values of every live completion the audience may see (the SQLite path)."""
    selected = completion_columns() + (contact_columns() if full else [])
    return live_completions(selected, audience.centre_ids)


def _completed_at_text() -> ColumnElement[Any]:
    """ISO 8601 in UTC with ``Z``, microseconds only when non-zero (as Python's isoformat)."""
    completed = func.timezone("UTC", completion_time())
    return (
        func.to_char(completed, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'"))
        + case(
            (func.date_trunc("second", completed) == completed, ""),
            else_=func.to_char(completed, literal_column("'.US'")),
        )
        + "Z"
    )


# Each column's cell as PostgreSQL text (before neutralising), for one audience.
SQL_CELLS: dict[str, Callable[[Audience], ColumnElement[Any]]] = {
    "enrollment_id": lambda a: a.enrollment_id_sql(Enrollment.id.expression),
    "applicant_id": lambda a: a.applicant_id_sql(Enrollment.applicant_id.expression),
    "cnic": lambda a: a.cnic_sql(Applicant.cnic.expression),
    "programme": lambda a: Programme.code.expression,
    "cohort": lambda a: Cohort.code.expression,
    "track": lambda a: Cohort.track.expression,
    "centre": lambda a: Centre.code.expression,
    "province": lambda a: Applicant.province.expression,
    "district": lambda a: Applicant.district.expression,
    "gender": lambda a: Applicant.gender.expression,
    "age_band": lambda a: age_band_sql("postgresql"),
    # float8 as text: "87", "87.5" (shortest exact), like the Python formatter.
    "score": lambda a: Enrollment.score.expression,
    "attendance": lambda a: Enrollment.attendance.expression,
    "completed_at": lambda a: _completed_at_text(),
    "certificate_code": lambda a: a.certificate_code_sql(Certificate.code.expression),
    "full_name": lambda a: Applicant.full_name.expression,
    "email": lambda a: Applicant.email.expression,
    "phone": lambda a: Applicant.phone.expression,
}


def copy_query(audience: Audience, *, full: bool) -> str:
    """The export as one PostgreSQL query whose columns are already the CSV's cells.

    Every literal (centre ids, the pseudonym key's pads) is rendered into the
    text, which goes nowhere but to the database (``COPY`` takes no parameters).
    """
    selected = [
        (cell if name in SHAPED else neutralise_sql(cell)).label(name)
        for name in columns(full=full)
        for cell in [SQL_CELLS[name](audience)]
    ]
    compiled = live_completions(selected, audience.centre_ids).compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    return str(compiled)
