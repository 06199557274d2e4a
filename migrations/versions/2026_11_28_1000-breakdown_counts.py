"""breakdown counts: trigger-maintained cube behind /reports/breakdown (PostgreSQL)

A breakdown used to join enrollments, certificates, cohorts and applicants
row by row: about a second at 1M enrollments. This keeps, per cohort, metric
(``enrollments``: seat-holding, by creation day; ``completions``: live, by
completion day) and applicant attributes (province, district, gender, age on
the cohort's start date), how many rows there are. Track, centre and
programme come from the cohort, the month from the day.

Kept exact by triggers on every table whose change moves a count:
``enrollments`` and ``certificates`` (as the 0002 counters), ``applicants``
(province, district, gender or date of birth changed: the applicant's rows
move) and ``cohorts`` (start date changed: ages move; the cohort's rows are
rebuilt). The last two are rare; they wait for in-flight enrollment and
certificate writes (``LOCK TABLE ... IN SHARE MODE``) so that none is counted
under the old values after they commit.

SQLite gets the (empty) table but no triggers: its breakdowns read the base
tables, which is fast enough for an embedded, single-writer database.

Revision ID: 0003_breakdown_counts
Revises: 0002_reports
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_breakdown_counts"
down_revision: str | None = "0002_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEATED = "('enrolled', 'completed', 'failed')"
KEY = "cohort_id, metric, day, province, district, gender, age"

PG_FUNCTIONS = [
    f"""
    CREATE FUNCTION report_cube_bump(p_cohort text, p_metric text, p_day date, p_province text,
        p_district text, p_gender text, p_age int, p_delta bigint)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF p_cohort IS NULL OR p_day IS NULL OR p_delta = 0 THEN RETURN; END IF;
      INSERT INTO report_breakdown_counts AS r ({KEY}, n)
      VALUES (p_cohort, p_metric, p_day, p_province, p_district, p_gender, p_age, p_delta)
      ON CONFLICT ({KEY}) DO UPDATE SET n = r.n + EXCLUDED.n;
    END $$
    """,
    # One enrollment row's contribution, with the applicant's attributes given
    # (the applicants trigger passes the old and the new ones).
    f"""
    CREATE FUNCTION report_cube_apply(e_id text, e_cohort text, e_status text,
        e_created timestamptz, e_completed timestamptz, a_province text, a_district text,
        a_gender text, a_birth date, sign int)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      start date;
      years int;
      issued timestamptz;
    BEGIN
      SELECT start_date INTO start FROM cohorts WHERE id = e_cohort;
      IF NOT FOUND OR a_birth IS NULL THEN RETURN; END IF;
      years := date_part('year', age(start, a_birth))::int;
      IF e_status IN {SEATED} THEN
        PERFORM report_cube_bump(e_cohort, 'enrollments', (e_created AT TIME ZONE 'UTC')::date,
                                 a_province, a_district, a_gender, years, sign);
      END IF;
      IF e_status = 'completed' THEN
        SELECT issued_at INTO issued FROM certificates
         WHERE enrollment_id = e_id AND revoked_at IS NULL;
        IF FOUND THEN
          PERFORM report_cube_bump(e_cohort, 'completions',
                                   (coalesce(e_completed, issued) AT TIME ZONE 'UTC')::date,
                                   a_province, a_district, a_gender, years, sign);
        END IF;
      END IF;
    END $$
    """,
    """
    CREATE FUNCTION report_cube_enrollments_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      a record;
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT province, district, gender, date_of_birth INTO a
          FROM applicants WHERE id = OLD.applicant_id;
        IF FOUND THEN
          PERFORM report_cube_apply(OLD.id, OLD.cohort_id, OLD.status, OLD.created_at,
            OLD.completed_at, a.province, a.district, a.gender, a.date_of_birth, -1);
        END IF;
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT province, district, gender, date_of_birth INTO a
          FROM applicants WHERE id = NEW.applicant_id;
        IF FOUND THEN
          PERFORM report_cube_apply(NEW.id, NEW.cohort_id, NEW.status, NEW.created_at,
            NEW.completed_at, a.province, a.district, a.gender, a.date_of_birth, 1);
        END IF;
      END IF;
      RETURN NULL;
    END $$
    """,
    # A certificate issued, revoked, restored or deleted moves one completion.
    """
    CREATE FUNCTION report_cube_certificate_apply(p_enrollment text, p_issued timestamptz,
        sign int)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      e record;
      a record;
      start date;
    BEGIN
      -- Serialise with status changes of the enrollment (they read certificates).
      SELECT cohort_id, applicant_id, status, completed_at INTO e
        FROM enrollments WHERE id = p_enrollment FOR NO KEY UPDATE;
      IF NOT FOUND OR e.status <> 'completed' THEN RETURN; END IF;
      SELECT province, district, gender, date_of_birth INTO a
        FROM applicants WHERE id = e.applicant_id;
      SELECT start_date INTO start FROM cohorts WHERE id = e.cohort_id;
      PERFORM report_cube_bump(e.cohort_id, 'completions',
        (coalesce(e.completed_at, p_issued) AT TIME ZONE 'UTC')::date,
        a.province, a.district, a.gender,
        date_part('year', age(start, a.date_of_birth))::int, sign);
    END $$
    """,
    """
    CREATE FUNCTION report_cube_certificates_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.revoked_at IS NULL THEN
        PERFORM report_cube_certificate_apply(OLD.enrollment_id, OLD.issued_at, -1);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.revoked_at IS NULL THEN
        PERFORM report_cube_certificate_apply(NEW.enrollment_id, NEW.issued_at, 1);
      END IF;
      RETURN NULL;
    END $$
    """,
    # Province, district, gender or date of birth changed: move the applicant's rows.
    """
    CREATE FUNCTION report_cube_applicants_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      e record;
    BEGIN
      -- In-flight enrollment changes read the old attributes: wait for them to
      -- commit, then move everything; later ones wait for us and read the new.
      LOCK TABLE enrollments, certificates IN SHARE MODE;
      FOR e IN SELECT id, cohort_id, status, created_at, completed_at
                 FROM enrollments WHERE applicant_id = NEW.id LOOP
        PERFORM report_cube_apply(e.id, e.cohort_id, e.status, e.created_at, e.completed_at,
          OLD.province, OLD.district, OLD.gender, OLD.date_of_birth, -1);
        PERFORM report_cube_apply(e.id, e.cohort_id, e.status, e.created_at, e.completed_at,
          NEW.province, NEW.district, NEW.gender, NEW.date_of_birth, 1);
      END LOOP;
      RETURN NULL;
    END $$
    """,
    # A cohort's start date changed: every age in it may move; rebuild its rows.
    """
    CREATE FUNCTION report_cube_rebuild_cohort(c text) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      LOCK TABLE enrollments, certificates, applicants IN SHARE MODE;
      DELETE FROM report_breakdown_counts WHERE cohort_id = c;
      PERFORM report_cube_backfill(c);
    END $$
    """,
    f"""
    CREATE FUNCTION report_cube_backfill(c text) RETURNS void LANGUAGE sql AS $$
      INSERT INTO report_breakdown_counts ({KEY}, n)
      SELECT e.cohort_id, 'enrollments', (e.created_at AT TIME ZONE 'UTC')::date,
             a.province, a.district, a.gender,
             date_part('year', age(co.start_date, a.date_of_birth))::int, count(*)
        FROM enrollments e
        JOIN cohorts co ON co.id = e.cohort_id
        JOIN applicants a ON a.id = e.applicant_id
       WHERE e.status IN {SEATED} AND (c IS NULL OR e.cohort_id = c)
       GROUP BY 1, 2, 3, 4, 5, 6, 7
      UNION ALL
      SELECT e.cohort_id, 'completions',
             (coalesce(e.completed_at, ce.issued_at) AT TIME ZONE 'UTC')::date,
             a.province, a.district, a.gender,
             date_part('year', age(co.start_date, a.date_of_birth))::int, count(*)
        FROM enrollments e
        JOIN certificates ce ON ce.enrollment_id = e.id AND ce.revoked_at IS NULL
        JOIN cohorts co ON co.id = e.cohort_id
        JOIN applicants a ON a.id = e.applicant_id
       WHERE e.status = 'completed' AND (c IS NULL OR e.cohort_id = c)
       GROUP BY 1, 2, 3, 4, 5, 6, 7
    $$
    """,
    """
    CREATE FUNCTION report_cube_cohorts_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM report_cube_rebuild_cohort(NEW.id);
      RETURN NULL;
    END $$
    """,
]

PG_TRIGGERS = [
    "CREATE TRIGGER report_cube_enrollments_ins AFTER INSERT ON enrollments "
    "FOR EACH ROW EXECUTE FUNCTION report_cube_enrollments_trg()",
    "CREATE TRIGGER report_cube_enrollments_upd "
    "AFTER UPDATE OF status, cohort_id, applicant_id, created_at, completed_at ON enrollments "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.cohort_id IS DISTINCT FROM NEW.cohort_id "
    "OR OLD.applicant_id IS DISTINCT FROM NEW.applicant_id "
    "OR OLD.created_at IS DISTINCT FROM NEW.created_at "
    "OR OLD.completed_at IS DISTINCT FROM NEW.completed_at) "
    "EXECUTE FUNCTION report_cube_enrollments_trg()",
    "CREATE TRIGGER report_cube_enrollments_del AFTER DELETE ON enrollments "
    "FOR EACH ROW EXECUTE FUNCTION report_cube_enrollments_trg()",
    "CREATE TRIGGER report_cube_certificates_ins AFTER INSERT ON certificates "
    "FOR EACH ROW EXECUTE FUNCTION report_cube_certificates_trg()",
    "CREATE TRIGGER report_cube_certificates_upd "
    "AFTER UPDATE OF revoked_at, issued_at, enrollment_id ON certificates "
    "FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at "
    "OR OLD.issued_at IS DISTINCT FROM NEW.issued_at "
    "OR OLD.enrollment_id IS DISTINCT FROM NEW.enrollment_id) "
    "EXECUTE FUNCTION report_cube_certificates_trg()",
    "CREATE TRIGGER report_cube_certificates_del AFTER DELETE ON certificates "
    "FOR EACH ROW EXECUTE FUNCTION report_cube_certificates_trg()",
    "CREATE TRIGGER report_cube_applicants_upd "
    "AFTER UPDATE OF province, district, gender, date_of_birth ON applicants "
    "FOR EACH ROW WHEN (OLD.province IS DISTINCT FROM NEW.province "
    "OR OLD.district IS DISTINCT FROM NEW.district "
    "OR OLD.gender IS DISTINCT FROM NEW.gender "
    "OR OLD.date_of_birth IS DISTINCT FROM NEW.date_of_birth) "
    "EXECUTE FUNCTION report_cube_applicants_trg()",
    "CREATE TRIGGER report_cube_cohorts_upd AFTER UPDATE OF start_date ON cohorts "
    "FOR EACH ROW WHEN (OLD.start_date IS DISTINCT FROM NEW.start_date) "
    "EXECUTE FUNCTION report_cube_cohorts_trg()",
]

TRIGGERS = [
    ("report_cube_enrollments_ins", "enrollments"),
    ("report_cube_enrollments_upd", "enrollments"),
    ("report_cube_enrollments_del", "enrollments"),
    ("report_cube_certificates_ins", "certificates"),
    ("report_cube_certificates_upd", "certificates"),
    ("report_cube_certificates_del", "certificates"),
    ("report_cube_applicants_upd", "applicants"),
    ("report_cube_cohorts_upd", "cohorts"),
]

PG_FUNCTION_NAMES = [
    "report_cube_cohorts_trg()",
    "report_cube_rebuild_cohort(text)",
    "report_cube_backfill(text)",
    "report_cube_applicants_trg()",
    "report_cube_certificates_trg()",
    "report_cube_certificate_apply(text, timestamptz, int)",
    "report_cube_enrollments_trg()",
    "report_cube_apply(text, text, text, timestamptz, timestamptz, text, text, text, date, int)",
    "report_cube_bump(text, text, date, text, text, text, int, bigint)",
]


def upgrade() -> None:
    op.create_table(
        "report_breakdown_counts",
        sa.Column("cohort_id", sa.String(length=36), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("province", sa.String(length=16), nullable=False),
        sa.Column("district", sa.String(length=80), nullable=False),
        sa.Column("gender", sa.String(length=16), nullable=False),
        sa.Column("age", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_report_breakdown_counts_cohort_id_cohorts"),
        ),
        sa.PrimaryKeyConstraint(
            "cohort_id",
            "metric",
            "day",
            "province",
            "district",
            "gender",
            "age",
            name=op.f("pk_report_breakdown_counts"),
        ),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    # Triggers first: creating them locks out writers until this transaction
    # commits, so the backfill below sees every row and none is counted twice.
    for sql in PG_FUNCTIONS + PG_TRIGGERS:
        op.execute(sql)
    op.execute("SELECT report_cube_backfill(NULL)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for fn in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.drop_table("report_breakdown_counts")
