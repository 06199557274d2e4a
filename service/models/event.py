from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from service.models.base import Base, BigIntPK


class current_xid(FunctionElement[int]):  # a SQL function, named like one
    """The writing transaction's id on PostgreSQL (``xid8`` as bigint); 0 on SQLite."""

    type = BigInteger()
    inherit_cache = True


@compiles(current_xid)
def _current_xid_default(_element: current_xid, _compiler: SQLCompiler, **_kw: object) -> str:
    return "0"


@compiles(current_xid, "postgresql")
def _current_xid_pg(_element: current_xid, _compiler: SQLCompiler, **_kw: object) -> str:
    return "pg_current_xact_id()::text::bigint"


class Event(Base):
    """The transactional outbox: one row per change a partner or staff tool may care about.

    Rows are written in the transaction of the change (database triggers for the
    core tables, ``service.events.emit`` for the rest). Commit order for readers
    is ``(xid, seq)`` below the oldest running transaction on PostgreSQL and
    ``seq`` on SQLite, whose writers are serialised (see ``service.events.repository``).
    """

    __tablename__ = "events"
    __table_args__ = (
        Index(None, "xid", "seq"),
        Index(None, "occurred_at"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    xid: Mapped[int] = mapped_column(BigInteger, default=current_xid())
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    # The event's data as JSON text (never personal data: see service.events.types).
    data: Mapped[str] = mapped_column(Text)
    # What visibility is decided on: the applicant it is about, the cohort's centre.
    applicant_id: Mapped[str | None] = mapped_column(String(36))
    centre_id: Mapped[str | None] = mapped_column(String(36))
    # Set only for a webhook.test event: delivered to that endpoint alone, never in the feed.
    webhook_id: Mapped[str | None] = mapped_column(String(36))
