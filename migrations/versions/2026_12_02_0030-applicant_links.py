"""applicant links: a second client linked to an applicant, and the applicant audit events

``applicant_clients``: client keys linked to an applicant registered by
another key (same CNIC, name and date of birth); they may read, update and
enrol it. ``applicant_events``: ``applicant.linked`` and
``applicant.identity_corrected`` audit rows (never a CNIC, name or date of
birth; a correction keeps a keyed fingerprint of the old values).

Revision ID: 0004_applicant_links
Revises: 0003_breakdown_counts
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.base

revision: str = "0004_applicant_links"
down_revision: str | None = "0003_breakdown_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applicant_clients",
        sa.Column("applicant_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("consent_at", service.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("linked_at", service.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["applicants.id"],
            name=op.f("fk_applicant_clients_applicant_id_applicants"),
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_applicant_clients_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("applicant_id", "key_id", name=op.f("pk_applicant_clients")),
    )
    with op.batch_alter_table("applicant_clients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applicant_clients_key_id"), ["key_id"], unique=False)

    op.create_table(
        "applicant_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("applicant_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("at", service.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("consent_at", service.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("fields", sa.String(length=100), nullable=True),
        sa.Column("old_fingerprint", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "type IN ('applicant.linked', 'applicant.identity_corrected')",
            name=op.f("ck_applicant_events_type"),
        ),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["applicants.id"],
            name=op.f("fk_applicant_events_applicant_id_applicants"),
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_applicant_events_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applicant_events")),
    )
    with op.batch_alter_table("applicant_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_applicant_events_applicant_id_id"), ["applicant_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("applicant_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applicant_events_applicant_id_id"))

    op.drop_table("applicant_events")
    with op.batch_alter_table("applicant_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applicant_clients_key_id"))

    op.drop_table("applicant_clients")
