"""offers: waitlist offers with expiry, declines and no-shows

- ``cohorts``: ``waitlist_mode`` (``auto`` | ``offer``), ``offer_hours`` (1..168)
  and the ``offers_pending`` counter (kept with ``seats_taken``, which counts
  offers as held seats).
- ``enrollments``: ``offer_expires_at``; statuses ``offered``, ``declined``,
  ``expired``, ``no_show``; ``offered`` is live (the one-live-enrollment index);
  two partial indexes on pending offers by expiry (the sweep, and one cohort's
  due offers).
- The outbox trigger of the enrollment audit trail (0008) adds
  ``offer_expires_at`` to the data of ``enrollment.offered`` / ``.expired``, and
  the ``cohort.updated`` trigger fires for the two new cohort fields too.

SQLite cannot alter a CHECK constraint in place; the status list in
``enrollments``' stored schema is widened with ``PRAGMA writable_schema`` (the
procedure SQLite documents for changing CHECK constraints), which keeps the
table, its triggers (0002, 0003, 0008) and its indexes as they are.

The downgrade maps the new statuses back (``offered`` → ``enrolled``, which
kept the seat; ``declined`` / ``expired`` → ``withdrawn``; ``no_show`` →
``dropped``) and drops what was added.

Revision ID: 0011_offers
Revises: 0010_outcomes
Create Date: 2026-12-02 05:00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

import service.models.base

revision: str = "0011_offers"
down_revision: str | None = "0010_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = (
    "'enrolled', 'waitlisted', 'withdrawn', 'dropped', 'completed', 'failed', 'cancelled'"
)
NEW_STATUSES = OLD_STATUSES + ", 'offered', 'declined', 'expired', 'no_show'"
OLD_LIVE = "status IN ('enrolled', 'waitlisted')"
NEW_LIVE = "status IN ('enrolled', 'waitlisted', 'offered')"
OFFERED = "status = 'offered'"
NEW_COHORT_FIELDS = ("waitlist_mode", "offer_hours")
DOWN_MAP = {"offered": "enrolled", "declined": "withdrawn", "expired": "withdrawn"}
DOWN_MAP["no_show"] = "dropped"

COHORT_COLUMNS = [
    "waitlist_mode VARCHAR(8) DEFAULT 'auto' NOT NULL "
    "CONSTRAINT ck_cohorts_waitlist_mode CHECK (waitlist_mode IN ('auto', 'offer'))",
    "offer_hours INTEGER DEFAULT '48' NOT NULL "
    "CONSTRAINT ck_cohorts_offer_hours_range CHECK (offer_hours >= 1 AND offer_hours <= 168)",
    "offers_pending INTEGER DEFAULT '0' NOT NULL "
    "CONSTRAINT ck_cohorts_offers_nonnegative CHECK (offers_pending >= 0)",
]

# The event data key, as RFC 3339 UTC text with microseconds on both backends.
PG_EXPIRY = (
    "CASE WHEN NEW.to_status IN ('offered', 'expired') THEN to_char(r.offer_expires_at "
    "AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END"
)
SQLITE_EXPIRY = (
    "CASE WHEN NEW.to_status IN ('offered', 'expired') "
    "THEN replace(e.offer_expires_at, ' ', 'T') || 'Z' END"
)


def _events_migration() -> ModuleType:
    """Revision 0008, whose trigger definitions this one extends and restores."""
    path = Path(__file__).with_name("2026_12_02_0100-events_and_webhooks.py")
    spec = importlib.util.spec_from_file_location("_events_0008", path)
    assert spec is not None  # noqa: S101
    assert spec.loader is not None  # noqa: S101
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pg_enrollment_function(m: ModuleType, *, new: bool) -> str:
    sql: str = m.PG_FUNCTIONS[1].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    if new:
        sql = sql.replace("SELECT e.applicant_id,", "SELECT e.applicant_id, e.offer_expires_at,")
        sql = sql.replace(
            "'waitlist_position', pos)",
            f"'waitlist_position', pos,\n'offer_expires_at', {PG_EXPIRY})",
        )
    return sql


def _pg_cohort_trigger(m: ModuleType, fields: Sequence[str]) -> str:
    return (
        f"CREATE TRIGGER events_cohorts_upd AFTER UPDATE OF {', '.join(fields)} ON cohorts "
        f"FOR EACH ROW WHEN ({m._distinct(fields)}) EXECUTE FUNCTION events_cohort_trg('fields')"
    )


def _sqlite_triggers(m: ModuleType, *, new: bool) -> tuple[str, str]:
    """The enrollment audit trail's and the cohort fields' triggers (old or new)."""
    fields = m.COHORT_FIELDS
    if new:
        m.COHORT_FIELDS = (*fields, *NEW_COHORT_FIELDS)
    try:
        triggers = {sql.split()[2]: sql for sql in m._sqlite_triggers()}
    finally:
        m.COHORT_FIELDS = fields
    enrollment = triggers["events_enrollment_events_ins"]
    if new:
        enrollment = enrollment.replace(
            "AND w.queue_no <= e.queue_no) END)",
            f"AND w.queue_no <= e.queue_no) END, 'offer_expires_at', {SQLITE_EXPIRY})",
        )
    return enrollment, triggers["events_cohorts_upd"]


def _sqlite_widen_check(old: str, new: str) -> None:
    """Rewrite the status CHECK in enrollments' stored CREATE TABLE (no table rebuild)."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    op.execute("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' "
        "AND name = 'enrollments'",
        (f"status IN ({old})", f"status IN ({new})"),
    )
    op.execute(f"PRAGMA schema_version = {int(version) + 1}")
    op.execute("PRAGMA writable_schema = OFF")


def _pg_status_check(statuses: str) -> None:
    op.execute("ALTER TABLE enrollments DROP CONSTRAINT ck_enrollments_status")
    op.execute(
        f"ALTER TABLE enrollments ADD CONSTRAINT ck_enrollments_status CHECK (status IN ({statuses}))"
    )


def _swap_live_index(where: str) -> None:
    op.drop_index("uq_enrollments_live_applicant", table_name="enrollments")
    op.create_index(
        "uq_enrollments_live_applicant",
        "enrollments",
        ["cohort_id", "applicant_id"],
        unique=True,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    m = _events_migration()
    for column in COHORT_COLUMNS:
        op.execute(f"ALTER TABLE cohorts ADD COLUMN {column}")
    op.add_column(
        "enrollments",
        sa.Column("offer_expires_at", service.models.base.UTCDateTime(timezone=True)),
    )
    if pg:
        _pg_status_check(NEW_STATUSES)
    else:
        _sqlite_widen_check(OLD_STATUSES, NEW_STATUSES)
    _swap_live_index(NEW_LIVE)
    for name, columns in (
        ("ix_enrollments_offer_expiry", ["offer_expires_at"]),
        ("ix_enrollments_cohort_offer_expiry", ["cohort_id", "offer_expires_at"]),
    ):
        op.create_index(
            name,
            "enrollments",
            columns,
            postgresql_where=sa.text(OFFERED),
            sqlite_where=sa.text(OFFERED),
        )
    if pg:
        op.execute(_pg_enrollment_function(m, new=True))
        op.execute("DROP TRIGGER events_cohorts_upd ON cohorts")
        op.execute(_pg_cohort_trigger(m, (*m.COHORT_FIELDS, *NEW_COHORT_FIELDS)))
    else:
        op.execute("DROP TRIGGER events_enrollment_events_ins")
        op.execute("DROP TRIGGER events_cohorts_upd")
        for sql in _sqlite_triggers(m, new=True):
            op.execute(sql)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    m = _events_migration()
    if pg:
        op.execute(_pg_enrollment_function(m, new=False))
        op.execute("DROP TRIGGER events_cohorts_upd ON cohorts")
        op.execute(_pg_cohort_trigger(m, m.COHORT_FIELDS))
    else:
        op.execute("DROP TRIGGER events_enrollment_events_ins")
        op.execute("DROP TRIGGER events_cohorts_upd")
        for sql in _sqlite_triggers(m, new=False):
            op.execute(sql)
    for new, old in DOWN_MAP.items():
        op.execute(f"UPDATE enrollments SET status = '{old}' WHERE status = '{new}'")
    op.drop_index("ix_enrollments_cohort_offer_expiry", table_name="enrollments")
    op.drop_index("ix_enrollments_offer_expiry", table_name="enrollments")
    _swap_live_index(OLD_LIVE)
    if pg:
        _pg_status_check(OLD_STATUSES)
    else:
        _sqlite_widen_check(NEW_STATUSES, OLD_STATUSES)
    op.drop_column("enrollments", "offer_expires_at")
    for column in ("offers_pending", "offer_hours", "waitlist_mode"):
        if pg:
            op.drop_column("cohorts", column)
        else:
            op.execute(f"ALTER TABLE cohorts DROP COLUMN {column}")
