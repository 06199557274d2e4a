"""Type aliases for SQLAlchemy rows and selects of several columns (2.1 types them by column)."""

from typing import Any

from sqlalchemy import Row, Select

AnyRow = Row[*tuple[Any, ...]]
AnySelect = Select[*tuple[Any, ...]]
