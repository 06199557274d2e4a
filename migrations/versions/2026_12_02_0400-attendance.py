"""attendance: sessions per cohort, one mark per enrollment and session, mark history

Revision ID: 0009_attendance
Revises: 0008_events_webhooks
Create Date: 2026-12-02 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.base

revision: str = "0009_attendance"
down_revision: str | None = "0008_events_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = service.models.base.UTCDateTime(timezone=True)
_STATUSES = "status IN ('present', 'late', 'excused', 'absent')"


def upgrade() -> None:
    op.create_table(
        "attendance_sessions",
        sa.Column("cohort_id", sa.String(length=36), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("created_by_key_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_attendance_sessions_cohort_id_cohorts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_attendance_sessions_created_by_key_id_api_keys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_sessions")),
    )
    op.create_index(
        op.f("ix_attendance_sessions_cohort_id_date"),
        "attendance_sessions",
        ["cohort_id", "date"],
        unique=False,
    )
    op.create_table(
        "attendance_marks",
        sa.Column("id", _BIGINT, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("enrollment_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("marked_at", _UTC, nullable=False),
        sa.Column("marked_by_key_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint(_STATUSES, name=op.f("ck_attendance_marks_status")),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_attendance_marks_enrollment_id_enrollments"),
        ),
        sa.ForeignKeyConstraint(
            ["marked_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_attendance_marks_marked_by_key_id_api_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["attendance_sessions.id"],
            name=op.f("fk_attendance_marks_session_id_attendance_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_marks")),
        sa.UniqueConstraint(
            "session_id", "enrollment_id", name=op.f("uq_attendance_marks_session_id_enrollment_id")
        ),
    )
    op.create_index(
        op.f("ix_attendance_marks_enrollment_id"),
        "attendance_marks",
        ["enrollment_id"],
        unique=False,
    )
    op.create_table(
        "attendance_mark_changes",
        sa.Column("id", _BIGINT, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("enrollment_id", sa.String(length=36), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=True),
        sa.Column("at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_attendance_mark_changes_enrollment_id_enrollments"),
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_attendance_mark_changes_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["attendance_sessions.id"],
            name=op.f("fk_attendance_mark_changes_session_id_attendance_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_mark_changes")),
    )
    op.create_index(
        op.f("ix_attendance_mark_changes_session_id_enrollment_id_id"),
        "attendance_mark_changes",
        ["session_id", "enrollment_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_attendance_mark_changes_session_id_enrollment_id_id"),
        table_name="attendance_mark_changes",
    )
    op.drop_table("attendance_mark_changes")
    op.drop_index(op.f("ix_attendance_marks_enrollment_id"), table_name="attendance_marks")
    op.drop_table("attendance_marks")
    op.drop_index(op.f("ix_attendance_sessions_cohort_id_date"), table_name="attendance_sessions")
    op.drop_table("attendance_sessions")
