"""outcomes: tracer follow-ups, their corrections, the due cursor and the outcome cube

``outcomes`` holds one row per completed enrollment and follow-up (3m, 6m,
12m); ``outcome_corrections`` the audit trail of PATCHes and re-imports;
``outcome_due_cursors`` how far the ``outcome.due`` job has walked completions.

``report_outcome_counts`` (PostgreSQL) is kept exact by triggers like
``report_breakdown_counts``: on ``outcomes`` (an outcome recorded, corrected or
deleted), ``enrollments`` (status, cohort, applicant or completion moved),
``certificates`` (issued, revoked, restored), ``applicants`` (province,
district, gender, date of birth) and ``cohorts`` (start date: ages move).
SQLite gets the empty table and no triggers: its reports read the base rows.

The targets' metric CHECK gains ``employed``.

Revision ID: 0010_outcomes
Revises: 0009_attendance
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.base

revision: str = "0010_outcomes"
down_revision: str | None = "0009_attendance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "cohort_id, follow_up, day, province, district, gender, age, status, income_band"
METRICS_BEFORE = "metric IN ('completions', 'trainees', 'enrollments')"
METRICS_AFTER = "metric IN ('completions', 'trainees', 'enrollments', 'employed')"
AGE = "date_part('year', age({start}, {birth}))::int"
DAY = "(coalesce({completed}, {issued}) AT TIME ZONE 'UTC')::date"

PG_FUNCTIONS = [
    f"""
    CREATE FUNCTION report_outcome_bump(p_cohort text, p_follow text, p_day date,
        p_province text, p_district text, p_gender text, p_age int, p_status text,
        p_band text, p_delta bigint)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF p_cohort IS NULL OR p_day IS NULL OR p_delta = 0 THEN RETURN; END IF;
      INSERT INTO report_outcome_counts AS r ({KEY}, n)
      VALUES (p_cohort, p_follow, p_day, p_province, p_district, p_gender, p_age, p_status,
              coalesce(p_band, ''), p_delta)
      ON CONFLICT ({KEY}) DO UPDATE SET n = r.n + EXCLUDED.n;
    END $$
    """,
    # Every outcome of one enrollment, counted with the state given (old or new).
    # ``issued`` is the live certificate's issue time, NULL when there is none.
    f"""
    CREATE FUNCTION report_outcome_enrollment(e_id text, e_cohort text, e_status text,
        e_completed timestamptz, issued timestamptz, a_province text, a_district text,
        a_gender text, a_birth date, sign int)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      start date;
      o record;
    BEGIN
      IF e_status IS DISTINCT FROM 'completed' OR issued IS NULL OR a_birth IS NULL THEN
        RETURN;
      END IF;
      SELECT start_date INTO start FROM cohorts WHERE id = e_cohort;
      IF NOT FOUND THEN RETURN; END IF;
      FOR o IN SELECT follow_up, status, income_band FROM outcomes
                WHERE enrollment_id = e_id LOOP
        PERFORM report_outcome_bump(e_cohort, o.follow_up,
          {DAY.format(completed="e_completed", issued="issued")},
          a_province, a_district, a_gender, {AGE.format(start="start", birth="a_birth")},
          o.status, o.income_band, sign);
      END LOOP;
    END $$
    """,
    # One outcome row (old or new values), counted with its enrollment's state now.
    f"""
    CREATE FUNCTION report_outcome_one(p_enrollment text, p_follow text, p_status text,
        p_band text, sign int)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      e record;
      a record;
      start date;
      issued timestamptz;
    BEGIN
      -- Serialise with certificate and status changes of the enrollment.
      SELECT cohort_id, applicant_id, status, completed_at INTO e
        FROM enrollments WHERE id = p_enrollment FOR SHARE;
      IF NOT FOUND OR e.status <> 'completed' THEN RETURN; END IF;
      SELECT issued_at INTO issued FROM certificates
       WHERE enrollment_id = p_enrollment AND revoked_at IS NULL;
      IF NOT FOUND THEN RETURN; END IF;
      SELECT province, district, gender, date_of_birth INTO a
        FROM applicants WHERE id = e.applicant_id;
      IF NOT FOUND OR a.date_of_birth IS NULL THEN RETURN; END IF;
      SELECT start_date INTO start FROM cohorts WHERE id = e.cohort_id;
      PERFORM report_outcome_bump(e.cohort_id, p_follow,
        {DAY.format(completed="e.completed_at", issued="issued")},
        a.province, a.district, a.gender, {AGE.format(start="start", birth="a.date_of_birth")},
        p_status, p_band, sign);
    END $$
    """,
    """
    CREATE FUNCTION report_outcome_outcomes_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM report_outcome_one(OLD.enrollment_id, OLD.follow_up, OLD.status,
                                   OLD.income_band, -1);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM report_outcome_one(NEW.enrollment_id, NEW.follow_up, NEW.status,
                                   NEW.income_band, 1);
      END IF;
      RETURN NULL;
    END $$
    """,
    # An enrollment with outcomes changed status, cohort, applicant or completion time.
    """
    CREATE FUNCTION report_outcome_enrollments_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      a record;
      issued timestamptz;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM outcomes WHERE enrollment_id = NEW.id) THEN
        RETURN NULL;
      END IF;
      SELECT issued_at INTO issued FROM certificates
       WHERE enrollment_id = NEW.id AND revoked_at IS NULL;
      SELECT province, district, gender, date_of_birth INTO a
        FROM applicants WHERE id = OLD.applicant_id;
      PERFORM report_outcome_enrollment(OLD.id, OLD.cohort_id, OLD.status, OLD.completed_at,
        issued, a.province, a.district, a.gender, a.date_of_birth, -1);
      SELECT province, district, gender, date_of_birth INTO a
        FROM applicants WHERE id = NEW.applicant_id;
      PERFORM report_outcome_enrollment(NEW.id, NEW.cohort_id, NEW.status, NEW.completed_at,
        issued, a.province, a.district, a.gender, a.date_of_birth, 1);
      RETURN NULL;
    END $$
    """,
    # A certificate issued, revoked, restored or deleted moves the enrollment's outcomes.
    """
    CREATE FUNCTION report_outcome_certificate_apply(p_enrollment text, p_issued timestamptz,
        sign int)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      e record;
      a record;
    BEGIN
      -- Cheap for the common case (a certificate issued at completion: no outcomes
      -- yet). The breakdown cube's certificate trigger, which runs first, has locked
      -- the enrollment already, so an outcome being recorded concurrently has
      -- committed (and is seen here) or waits and then sees this certificate.
      IF NOT EXISTS (SELECT 1 FROM outcomes WHERE enrollment_id = p_enrollment) THEN
        RETURN;
      END IF;
      SELECT cohort_id, applicant_id, status, completed_at INTO e
        FROM enrollments WHERE id = p_enrollment FOR NO KEY UPDATE;
      IF NOT FOUND OR e.status <> 'completed' THEN RETURN; END IF;
      SELECT province, district, gender, date_of_birth INTO a
        FROM applicants WHERE id = e.applicant_id;
      PERFORM report_outcome_enrollment(p_enrollment, e.cohort_id, e.status, e.completed_at,
        p_issued, a.province, a.district, a.gender, a.date_of_birth, sign);
    END $$
    """,
    """
    CREATE FUNCTION report_outcome_certificates_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.revoked_at IS NULL THEN
        PERFORM report_outcome_certificate_apply(OLD.enrollment_id, OLD.issued_at, -1);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.revoked_at IS NULL THEN
        PERFORM report_outcome_certificate_apply(NEW.enrollment_id, NEW.issued_at, 1);
      END IF;
      RETURN NULL;
    END $$
    """,
    # Province, district, gender or date of birth changed: move the applicant's outcomes.
    """
    CREATE FUNCTION report_outcome_applicants_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      e record;
    BEGIN
      LOCK TABLE enrollments, certificates, outcomes IN SHARE MODE;
      FOR e IN SELECT en.id, en.cohort_id, en.status, en.completed_at, ce.issued_at
                 FROM enrollments en
                 JOIN certificates ce ON ce.enrollment_id = en.id AND ce.revoked_at IS NULL
                WHERE en.applicant_id = NEW.id AND en.status = 'completed'
                  AND EXISTS (SELECT 1 FROM outcomes o WHERE o.enrollment_id = en.id) LOOP
        PERFORM report_outcome_enrollment(e.id, e.cohort_id, e.status, e.completed_at,
          e.issued_at, OLD.province, OLD.district, OLD.gender, OLD.date_of_birth, -1);
        PERFORM report_outcome_enrollment(e.id, e.cohort_id, e.status, e.completed_at,
          e.issued_at, NEW.province, NEW.district, NEW.gender, NEW.date_of_birth, 1);
      END LOOP;
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION report_outcome_backfill(c text) RETURNS void LANGUAGE sql AS $$
      INSERT INTO report_outcome_counts ({KEY}, n)
      SELECT e.cohort_id, o.follow_up,
             {DAY.format(completed="e.completed_at", issued="ce.issued_at")},
             a.province, a.district, a.gender,
             {AGE.format(start="co.start_date", birth="a.date_of_birth")},
             o.status, coalesce(o.income_band, ''), count(*)
        FROM outcomes o
        JOIN enrollments e ON e.id = o.enrollment_id
        JOIN certificates ce ON ce.enrollment_id = e.id AND ce.revoked_at IS NULL
        JOIN cohorts co ON co.id = e.cohort_id
        JOIN applicants a ON a.id = e.applicant_id
       WHERE e.status = 'completed' AND (c IS NULL OR e.cohort_id = c)
       GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    $$
    """,
    # A cohort's start date changed: every age in it may move; rebuild its rows.
    """
    CREATE FUNCTION report_outcome_cohorts_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      LOCK TABLE enrollments, certificates, applicants, outcomes IN SHARE MODE;
      DELETE FROM report_outcome_counts WHERE cohort_id = NEW.id;
      PERFORM report_outcome_backfill(NEW.id);
      RETURN NULL;
    END $$
    """,
]

PG_TRIGGERS = [
    "CREATE TRIGGER report_outcome_outcomes_ins AFTER INSERT ON outcomes "
    "FOR EACH ROW EXECUTE FUNCTION report_outcome_outcomes_trg()",
    "CREATE TRIGGER report_outcome_outcomes_upd "
    "AFTER UPDATE OF enrollment_id, follow_up, status, income_band ON outcomes "
    "FOR EACH ROW WHEN (OLD.enrollment_id IS DISTINCT FROM NEW.enrollment_id "
    "OR OLD.follow_up IS DISTINCT FROM NEW.follow_up "
    "OR OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.income_band IS DISTINCT FROM NEW.income_band) "
    "EXECUTE FUNCTION report_outcome_outcomes_trg()",
    "CREATE TRIGGER report_outcome_outcomes_del AFTER DELETE ON outcomes "
    "FOR EACH ROW EXECUTE FUNCTION report_outcome_outcomes_trg()",
    "CREATE TRIGGER report_outcome_enrollments_upd "
    "AFTER UPDATE OF status, cohort_id, applicant_id, completed_at ON enrollments "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.cohort_id IS DISTINCT FROM NEW.cohort_id "
    "OR OLD.applicant_id IS DISTINCT FROM NEW.applicant_id "
    "OR OLD.completed_at IS DISTINCT FROM NEW.completed_at) "
    "EXECUTE FUNCTION report_outcome_enrollments_trg()",
    "CREATE TRIGGER report_outcome_certificates_ins AFTER INSERT ON certificates "
    "FOR EACH ROW EXECUTE FUNCTION report_outcome_certificates_trg()",
    "CREATE TRIGGER report_outcome_certificates_upd "
    "AFTER UPDATE OF revoked_at, issued_at, enrollment_id ON certificates "
    "FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at "
    "OR OLD.issued_at IS DISTINCT FROM NEW.issued_at "
    "OR OLD.enrollment_id IS DISTINCT FROM NEW.enrollment_id) "
    "EXECUTE FUNCTION report_outcome_certificates_trg()",
    "CREATE TRIGGER report_outcome_certificates_del AFTER DELETE ON certificates "
    "FOR EACH ROW EXECUTE FUNCTION report_outcome_certificates_trg()",
    "CREATE TRIGGER report_outcome_applicants_upd "
    "AFTER UPDATE OF province, district, gender, date_of_birth ON applicants "
    "FOR EACH ROW WHEN (OLD.province IS DISTINCT FROM NEW.province "
    "OR OLD.district IS DISTINCT FROM NEW.district "
    "OR OLD.gender IS DISTINCT FROM NEW.gender "
    "OR OLD.date_of_birth IS DISTINCT FROM NEW.date_of_birth) "
    "EXECUTE FUNCTION report_outcome_applicants_trg()",
    "CREATE TRIGGER report_outcome_cohorts_upd AFTER UPDATE OF start_date ON cohorts "
    "FOR EACH ROW WHEN (OLD.start_date IS DISTINCT FROM NEW.start_date) "
    "EXECUTE FUNCTION report_outcome_cohorts_trg()",
]

TRIGGERS = [
    ("report_outcome_outcomes_ins", "outcomes"),
    ("report_outcome_outcomes_upd", "outcomes"),
    ("report_outcome_outcomes_del", "outcomes"),
    ("report_outcome_enrollments_upd", "enrollments"),
    ("report_outcome_certificates_ins", "certificates"),
    ("report_outcome_certificates_upd", "certificates"),
    ("report_outcome_certificates_del", "certificates"),
    ("report_outcome_applicants_upd", "applicants"),
    ("report_outcome_cohorts_upd", "cohorts"),
]

PG_FUNCTION_NAMES = [
    "report_outcome_cohorts_trg()",
    "report_outcome_backfill(text)",
    "report_outcome_applicants_trg()",
    "report_outcome_certificates_trg()",
    "report_outcome_certificate_apply(text, timestamptz, int)",
    "report_outcome_enrollments_trg()",
    "report_outcome_outcomes_trg()",
    "report_outcome_one(text, text, text, text, int)",
    "report_outcome_enrollment(text, text, text, timestamptz, timestamptz, text, text, text, "
    "date, int)",
    "report_outcome_bump(text, text, date, text, text, text, int, text, text, bigint)",
]


def _create_tables() -> None:
    dt = service.models.base.UTCDateTime()
    op.create_table(
        "outcomes",
        sa.Column("enrollment_id", sa.String(length=36), nullable=False),
        sa.Column("follow_up", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("income_band", sa.String(length=16), nullable=True),
        sa.Column("online_store", sa.Boolean(), nullable=True),
        sa.Column("export_orders", sa.Integer(), nullable=True),
        sa.Column("export_value_usd", sa.Double(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_key_id", sa.String(length=36), nullable=True),
        sa.Column("updated_by_key_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", dt, nullable=False),
        sa.Column("updated_at", dt, nullable=False),
        sa.CheckConstraint(
            "export_orders IS NULL OR export_orders >= 0", name=op.f("ck_outcomes_export_orders")
        ),
        sa.CheckConstraint(
            "export_value_usd IS NULL OR export_value_usd >= 0",
            name=op.f("ck_outcomes_export_value_usd"),
        ),
        sa.CheckConstraint("follow_up IN ('3m', '6m', '12m')", name=op.f("ck_outcomes_follow_up")),
        sa.CheckConstraint(
            "income_band IS NULL OR income_band IN ('lt_25k', '25k_50k', '50k_100k', 'gt_100k')",
            name=op.f("ck_outcomes_income_band"),
        ),
        sa.CheckConstraint(
            "source IN ('phone', 'partner_app', 'self_report', 'survey')",
            name=op.f("ck_outcomes_source"),
        ),
        sa.CheckConstraint(
            "status IN ('employed', 'self_employed', 'freelance', 'further_study', "
            "'unemployed', 'unreachable')",
            name=op.f("ck_outcomes_status"),
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_outcomes_enrollment_id_enrollments"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_outcomes_recorded_by_key_id_api_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_outcomes_updated_by_key_id_api_keys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
        sa.UniqueConstraint(
            "enrollment_id", "follow_up", name=op.f("uq_outcomes_enrollment_id_follow_up")
        ),
    )
    op.create_index(
        op.f("ix_outcomes_follow_up_status"), "outcomes", ["follow_up", "status"], unique=False
    )
    op.create_table(
        "outcome_corrections",
        sa.Column("outcome_id", sa.String(length=36), nullable=False),
        sa.Column("at", dt, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=True),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_outcome_corrections_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["outcomes.id"],
            name=op.f("fk_outcome_corrections_outcome_id_outcomes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_corrections")),
    )
    op.create_index(
        op.f("ix_outcome_corrections_outcome_id_at"),
        "outcome_corrections",
        ["outcome_id", "at"],
        unique=False,
    )
    cursors = op.create_table(
        "outcome_due_cursors",
        sa.Column("follow_up", sa.String(length=4), nullable=False),
        sa.Column("through_at", dt, nullable=True),
        sa.Column("through_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("follow_up", name=op.f("pk_outcome_due_cursors")),
    )
    op.bulk_insert(cursors, [{"follow_up": f} for f in ("3m", "6m", "12m")])
    op.create_table(
        "report_outcome_counts",
        sa.Column("cohort_id", sa.String(length=36), nullable=False),
        sa.Column("follow_up", sa.String(length=4), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("province", sa.String(length=16), nullable=False),
        sa.Column("district", sa.String(length=80), nullable=False),
        sa.Column("gender", sa.String(length=16), nullable=False),
        sa.Column("age", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("income_band", sa.String(length=16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_report_outcome_counts_cohort_id_cohorts")
        ),
        sa.PrimaryKeyConstraint(
            *KEY.split(", "),
            name=op.f("pk_report_outcome_counts"),
        ),
    )


def _target_metrics(check: str) -> None:
    with op.batch_alter_table("targets") as batch:
        batch.drop_constraint(op.f("ck_targets_metric"), type_="check")
        batch.create_check_constraint(op.f("ck_targets_metric"), check)


def upgrade() -> None:
    _create_tables()
    _target_metrics(METRICS_AFTER)
    if op.get_bind().dialect.name != "postgresql":
        return
    for sql in PG_FUNCTIONS + PG_TRIGGERS:
        op.execute(sql)
    op.execute("SELECT report_outcome_backfill(NULL)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for fn in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("DELETE FROM targets WHERE metric = 'employed'")
    _target_metrics(METRICS_BEFORE)
    op.drop_table("report_outcome_counts")
    op.drop_table("outcome_due_cursors")
    op.drop_index(op.f("ix_outcome_corrections_outcome_id_at"), table_name="outcome_corrections")
    op.drop_table("outcome_corrections")
    op.drop_index(op.f("ix_outcomes_follow_up_status"), table_name="outcomes")
    op.drop_table("outcomes")
