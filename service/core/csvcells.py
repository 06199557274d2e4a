"""Exports are data, never formulas: one rule for every CSV cell the service writes.

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and some a cell starting with a tab or a carriage return) as a formula, so a
name like ``=HYPERLINK(...)`` in an export would run when staff open it. Per
OWASP's CSV-injection guidance such a cell is written with a leading ``'``,
which makes it text. A plain number (``-2``, ``87.5``) or an E.164 phone
number (``+923001234567``) is left as it is: a spreadsheet reads it as the
number it is, and a consumer reading the CSV gets the value unchanged.

The rule exists twice, as Python (:func:`neutralise`, for rows the service
formats) and as SQL (:func:`neutralise_sql`, for rows PostgreSQL formats
itself in ``COPY``), both built from the same two constants below; the
report tests check that the two agree cell by cell.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy import String, and_, case, cast, func, literal, not_
from sqlalchemy.sql.elements import ColumnElement

# First characters a spreadsheet may evaluate.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# Values that stay as they are even so: signed numbers and E.164 phone numbers.
# (No backslashes: the pattern is written into SQL as a literal.)
PLAIN_NUMBER = "[+-]?[0-9]+([.][0-9]+)?"
_PLAIN = re.compile(PLAIN_NUMBER)


def neutralise(value: str | None) -> str | None:
    """``value`` as a cell a spreadsheet shows as text, never evaluates."""
    if value and value.startswith(FORMULA_LEADS) and not _PLAIN.fullmatch(value):
        return "'" + value
    return value


class ExportWriter:
    """``csv.writer`` for exports: every cell neutralised, rows ending in ``\\n``.

    A cell holding a carriage return is quoted too: Python 3.11's writer
    quotes only the line terminator's characters, and an unquoted CR splits
    the row for every reader (PostgreSQL's COPY quotes it).
    """

    def __init__(self, out: TextIO) -> None:
        self._plain = csv.writer(out, lineterminator="\n")
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def header(self, names: Iterable[str]) -> None:
        self._plain.writerow(names)

    def row(self, values: Iterable[str | None]) -> None:
        cells = [neutralise(v) for v in values]
        if any(c is not None and "\r" in c for c in cells):
            self._quoted.writerow(cells)
        else:
            self._plain.writerow(cells)


def neutralise_sql(value: ColumnElement[Any]) -> ColumnElement[str]:
    """:func:`neutralise` as a PostgreSQL expression (``value`` cast to text first)."""
    text = cast(value, String())
    # ascii() of the first character: an integer test, about free per cell
    # (left(text, 1) IN (...) cost the COPY export a third of its speed).
    risky = and_(
        func.ascii(text).in_([ord(lead) for lead in FORMULA_LEADS]),
        not_(text.regexp_match(f"^({PLAIN_NUMBER})$")),
    )
    return case((risky, literal("'", String()) + text), else_=text)
