"""reserved pools: reserved-seat pools of cohorts (contract: Reserved seats)

- ``cohort_pools``: one row per pool of a cohort (order, code, seats, rule as
  JSON text, ``release_on``, ``released_at``, the ``taken`` counter).
- ``cohorts.pool_count``: 0 keeps the enrollment hot path's one statement.
- ``enrollments.pool``: the code of the pool whose seat is held (null: open).
- The outbox trigger of the enrollment audit trail (0008, as 0011 left it)
  adds ``pool`` to the data of every ``enrollment.*`` event.

Revision ID: 0012_reserved_pools
Revises: 0011_offers
Create Date: 2026-12-02 07:00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

import service.models.base

revision: str = "0012_reserved_pools"
down_revision: str | None = "0011_offers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _load(name: str, file: str) -> ModuleType:
    path = Path(__file__).with_name(file)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None  # noqa: S101
    assert spec.loader is not None  # noqa: S101
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _trigger_sql(*, with_pool: bool) -> list[str]:
    """The enrollment audit trail's outbox trigger as 0011 left it, with ``pool`` or not."""
    events = _load("_events_0008", "2026_12_02_0100-events_and_webhooks.py")
    offers = _load("_offers_0011", "2026_12_02_0600-offers.py")
    if op.get_bind().dialect.name == "postgresql":
        sql: str = offers._pg_enrollment_function(events, new=True)
        if with_pool:
            sql = sql.replace(
                "SELECT e.applicant_id, e.offer_expires_at,",
                "SELECT e.applicant_id, e.offer_expires_at, e.pool,",
            )
            sql = sql.replace(
                f"'offer_expires_at', {offers.PG_EXPIRY})",
                f"'offer_expires_at', {offers.PG_EXPIRY},\n'pool', r.pool)",
            )
            assert "'pool', r.pool" in sql  # noqa: S101
        return [sql]
    enrollment, _cohorts = offers._sqlite_triggers(events, new=True)
    if with_pool:
        enrollment = enrollment.replace(
            f"'offer_expires_at', {offers.SQLITE_EXPIRY})",
            f"'offer_expires_at', {offers.SQLITE_EXPIRY}, 'pool', e.pool)",
        )
        assert "'pool', e.pool" in enrollment  # noqa: S101
    return ["DROP TRIGGER events_enrollment_events_ins", enrollment]


def upgrade() -> None:
    op.create_table(
        "cohort_pools",
        sa.Column("cohort_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("release_on", sa.Date(), nullable=True),
        sa.Column("released_at", service.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("taken", sa.Integer(), server_default="0", nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("seats >= 1", name=op.f("ck_cohort_pools_seats_positive")),
        sa.CheckConstraint(
            "taken >= 0 AND taken <= seats", name=op.f("ck_cohort_pools_taken_within")
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_cohort_pools_cohort_id_cohorts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_pools")),
        sa.UniqueConstraint("cohort_id", "code", name=op.f("uq_cohort_pools_cohort_id_code")),
    )
    op.execute("ALTER TABLE cohorts ADD COLUMN pool_count INTEGER DEFAULT '0' NOT NULL")
    op.add_column("enrollments", sa.Column("pool", sa.String(length=64), nullable=True))
    for sql in _trigger_sql(with_pool=True):
        op.execute(sql)


def downgrade() -> None:
    for sql in _trigger_sql(with_pool=False):
        op.execute(sql)
    op.drop_column("enrollments", "pool")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("cohorts", "pool_count")
    else:
        op.execute("ALTER TABLE cohorts DROP COLUMN pool_count")
    op.drop_table("cohort_pools")
