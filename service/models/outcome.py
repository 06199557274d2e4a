from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, IdMixin, TimestampMixin, enum_check
from service.models.enums import (
    FollowUp,
    IncomeBand,
    OutcomeSource,
    OutcomeStatus,
    values,
)


class Outcome(IdMixin, TimestampMixin, Base):
    """What a completer was doing at one follow-up (3, 6 or 12 months after completion)."""

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "follow_up"),
        CheckConstraint(enum_check("follow_up", values(FollowUp)), name="follow_up"),
        CheckConstraint(enum_check("status", values(OutcomeStatus)), name="status"),
        CheckConstraint(
            "income_band IS NULL OR " + enum_check("income_band", values(IncomeBand)),
            name="income_band",
        ),
        CheckConstraint(enum_check("source", values(OutcomeSource)), name="source"),
        CheckConstraint("export_orders IS NULL OR export_orders >= 0", name="export_orders"),
        CheckConstraint(
            "export_value_usd IS NULL OR export_value_usd >= 0", name="export_value_usd"
        ),
        # The `employed` target metric and the report's base-row path.
        Index(None, "follow_up", "status"),
    )

    enrollment_id: Mapped[str] = mapped_column(ForeignKey("enrollments.id"))
    follow_up: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16))
    income_band: Mapped[str | None] = mapped_column(String(16))
    online_store: Mapped[bool | None]
    export_orders: Mapped[int | None]
    export_value_usd: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(16))
    recorded_on: Mapped[date]
    recorded_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    updated_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))


class OutcomeCorrection(IdMixin, Base):
    """One correction of an outcome: who, when, and each changed field's old and new value."""

    __tablename__ = "outcome_corrections"
    __table_args__ = (Index(None, "outcome_id", "at"),)

    outcome_id: Mapped[str] = mapped_column(ForeignKey("outcomes.id"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    # JSON {"field": {"from": old, "to": new}, ...}
    changes: Mapped[str] = mapped_column(Text)


class OutcomeDueCursor(Base):
    """How far the ``outcome.due`` job has walked completions, per follow-up.

    Completions are walked in (``completed_at``, ``id``) order; every one before
    the cursor has had its window-opening considered (emitted once, or skipped
    because an outcome was already recorded or the window had already closed).
    The row is locked while a dispatcher advances it, so concurrent dispatchers
    never emit twice. ``through_at`` NULL: not started (begins at the windows
    still open).
    """

    __tablename__ = "outcome_due_cursors"

    follow_up: Mapped[str] = mapped_column(String(4), primary_key=True)
    through_at: Mapped[datetime | None]
    through_id: Mapped[str | None] = mapped_column(String(36))


class ReportOutcomeCount(Base):
    """Trigger-maintained outcome counts behind ``/reports/outcomes`` (PostgreSQL).

    One row per cohort, follow-up, completion day, applicant attributes (as in
    ``report_breakdown_counts``), status and income band ('' for none): the
    outcomes of live completions. The report sums the rows whose completion day
    has had its window opened; ``completers`` come from the breakdown counts'
    ``completions`` rows by the same day. SQLite keeps no rows here.
    """

    __tablename__ = "report_outcome_counts"

    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"), primary_key=True)
    follow_up: Mapped[str] = mapped_column(String(4), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(String(16), primary_key=True)
    district: Mapped[str] = mapped_column(String(80), primary_key=True)
    gender: Mapped[str] = mapped_column(String(16), primary_key=True)
    age: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    income_band: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
