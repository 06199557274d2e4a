"""applicant events per statement: one INSERT of outbox rows for a whole batch of applicants

On PostgreSQL ``applicant.registered`` was written by a row trigger (0008): a
CSV import of 100,000 applicants ran the trigger function, and its INSERT into
``events``, 100,000 times. A statement-level trigger with a transition table
writes the same rows (one per applicant, in id order, which is creation order)
with one ``INSERT … SELECT`` per statement, whether the applicants came by
``INSERT`` or ``COPY``. The rows are those 0008 wrote: same type, time, data,
``applicant_id`` and transaction id. The update trigger stays a row trigger
(updates come one by one, with a ``WHEN`` that skips unchanged contacts).

SQLite keeps its row trigger (no transition tables there).

Revision ID: 0013_applicant_events_stmt
Revises: 0012_reserved_pools
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_applicant_events_stmt"
down_revision: str | None = "0012_reserved_pools"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = [
    """
    CREATE FUNCTION events_applicants_registered_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO events (id, xid, type, occurred_at, data, applicant_id, centre_id)
      SELECT gen_random_uuid()::text, pg_current_xact_id()::text::bigint,
             'applicant.registered', n.created_at,
             json_build_object('applicant_id', n.id)::text, n.id, NULL
        FROM registered n
       ORDER BY n.id;
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER events_applicants_ins ON applicants",
    "CREATE TRIGGER events_applicants_ins AFTER INSERT ON applicants "
    "REFERENCING NEW TABLE AS registered FOR EACH STATEMENT "
    "EXECUTE FUNCTION events_applicants_registered_trg()",
]

DOWNGRADE = [
    "DROP TRIGGER events_applicants_ins ON applicants",
    "DROP FUNCTION events_applicants_registered_trg()",
    "CREATE TRIGGER events_applicants_ins AFTER INSERT ON applicants "
    "FOR EACH ROW EXECUTE FUNCTION events_applicant_trg()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for sql in UPGRADE:
            op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for sql in DOWNGRADE:
            op.execute(sql)
