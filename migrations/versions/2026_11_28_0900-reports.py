"""reports: trigger-maintained counters, daily window and the completions feed

Every derived row is kept by database triggers on ``enrollments``,
``certificates`` and ``target_programmes`` (plpgsql on PostgreSQL, SQL
triggers on SQLite), so each code path that writes those tables, bulk UPDATEs
included, keeps the reports exact. Existing rows are backfilled.

Counters are split in 16 shards by the last hex digit of the cohort id of the
row that changed, so writers in different cohorts rarely share a counter row;
readers sum the shards.

Revision ID: 0002_reports
Revises: 0001_initial
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.base

revision: str = "0002_reports"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEATED = "('enrolled', 'completed', 'failed')"


def _create_tables() -> None:
    op.create_table(
        "report_programme_counts",
        sa.Column("programme_id", sa.String(length=36), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("shard", sa.String(length=1), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_report_programme_counts_programme_id_programmes"),
        ),
        sa.PrimaryKeyConstraint(
            "programme_id", "metric", "shard", name=op.f("pk_report_programme_counts")
        ),
    )
    op.create_table(
        "report_programme_daily",
        sa.Column("programme_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("shard", sa.String(length=1), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_report_programme_daily_programme_id_programmes"),
        ),
        sa.PrimaryKeyConstraint(
            "programme_id", "day", "metric", "shard", name=op.f("pk_report_programme_daily")
        ),
    )
    op.create_table(
        "report_applicant_programmes",
        sa.Column("applicant_id", sa.String(length=36), nullable=False),
        sa.Column("programme_id", sa.String(length=36), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["applicants.id"],
            name=op.f("fk_report_applicant_programmes_applicant_id_applicants"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_report_applicant_programmes_programme_id_programmes"),
        ),
        sa.PrimaryKeyConstraint(
            "applicant_id", "programme_id", name=op.f("pk_report_applicant_programmes")
        ),
    )
    op.create_table(
        "report_target_members",
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("applicant_id", sa.String(length=36), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["applicants.id"],
            name=op.f("fk_report_target_members_applicant_id_applicants"),
        ),
        sa.PrimaryKeyConstraint("target_id", "applicant_id", name=op.f("pk_report_target_members")),
    )
    with op.batch_alter_table("report_target_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_target_members_applicant_id"), ["applicant_id"], unique=False
        )
    op.create_table(
        "report_target_counts",
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("shard", sa.String(length=1), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("target_id", "shard", name=op.f("pk_report_target_counts")),
    )
    op.create_table(
        "report_target_daily",
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shard", sa.String(length=1), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("target_id", "day", "shard", name=op.f("pk_report_target_daily")),
    )
    op.create_table(
        "report_feed",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("enrollment_id", sa.String(length=36), nullable=False),
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("at", service.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('completion', 'revocation')", name=op.f("ck_report_feed_kind")
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_report_feed")),
    )
    op.create_table(
        "report_feed_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_report_feed_counter_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_feed_counter")),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrollments_status_completed_at", ["status", "completed_at"], unique=False
        )
        batch_op.create_index(
            "ix_enrollments_status_created_at", ["status", "created_at"], unique=False
        )


TABLES = [
    "report_feed_counter",
    "report_feed",
    "report_target_daily",
    "report_target_counts",
    "report_target_members",
    "report_applicant_programmes",
    "report_programme_daily",
    "report_programme_counts",
]


# --- dialect helpers ---------------------------------------------------------


class Dialect:
    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def day(self, expr: str) -> str:
        return f"(({expr}) AT TIME ZONE 'UTC')::date" if self.pg else f"date({expr})"

    def shard(self, expr: str) -> str:
        return f"right({expr}, 1)" if self.pg else f"substr({expr}, -1)"


def _backfill(d: Dialect) -> None:
    """Derive every counter from the rows already there (empty on a new install)."""
    live_cert = "JOIN certificates c ON c.enrollment_id = e.id AND c.revoked_at IS NULL"
    completion_day = d.day("coalesce(e.completed_at, c.issued_at)")
    shard = d.shard("e.cohort_id")
    op.execute(
        f"""
        INSERT INTO report_programme_counts (programme_id, metric, shard, n)
        SELECT co.programme_id, e.status, {shard}, count(*)
        FROM enrollments e JOIN cohorts co ON co.id = e.cohort_id
        GROUP BY co.programme_id, e.status, {shard}
        """
    )
    op.execute(
        f"""
        INSERT INTO report_programme_counts (programme_id, metric, shard, n)
        SELECT co.programme_id, 'certified', {shard}, count(*)
        FROM enrollments e JOIN cohorts co ON co.id = e.cohort_id {live_cert}
        WHERE e.status = 'completed'
        GROUP BY co.programme_id, {shard}
        """
    )
    op.execute(
        f"""
        INSERT INTO report_programme_daily (programme_id, day, metric, shard, n)
        SELECT co.programme_id, {d.day("e.created_at")}, 'enrollments', {shard}, count(*)
        FROM enrollments e JOIN cohorts co ON co.id = e.cohort_id
        WHERE e.status IN {SEATED}
        GROUP BY co.programme_id, {d.day("e.created_at")}, {shard}
        """
    )
    op.execute(
        f"""
        INSERT INTO report_programme_daily (programme_id, day, metric, shard, n)
        SELECT co.programme_id, {completion_day}, 'completions', {shard}, count(*)
        FROM enrollments e JOIN cohorts co ON co.id = e.cohort_id {live_cert}
        WHERE e.status = 'completed'
        GROUP BY co.programme_id, {completion_day}, {shard}
        """
    )
    op.execute(
        """
        INSERT INTO report_applicant_programmes (applicant_id, programme_id, n)
        SELECT e.applicant_id, co.programme_id, count(*)
        FROM enrollments e JOIN cohorts co ON co.id = e.cohort_id
        GROUP BY e.applicant_id, co.programme_id
        """
    )
    op.execute(
        """
        INSERT INTO report_programme_counts (programme_id, metric, shard, n)
        SELECT programme_id, 'applicants', '0', count(*)
        FROM report_applicant_programmes WHERE n > 0 GROUP BY programme_id
        """
    )
    op.execute(
        f"""
        INSERT INTO report_target_members (target_id, applicant_id, first_day)
        SELECT tp.target_id, e.applicant_id, min({completion_day})
        FROM target_programmes tp
        JOIN cohorts co ON co.programme_id = tp.programme_id
        JOIN enrollments e ON e.cohort_id = co.id {live_cert}
        WHERE e.status = 'completed'
        GROUP BY tp.target_id, e.applicant_id
        """
    )
    op.execute(
        """
        INSERT INTO report_target_counts (target_id, shard, n)
        SELECT target_id, '0', count(*) FROM report_target_members GROUP BY target_id
        """
    )
    op.execute(
        """
        INSERT INTO report_target_daily (target_id, day, shard, n)
        SELECT target_id, first_day, '0', count(*)
        FROM report_target_members GROUP BY target_id, first_day
        """
    )
    # The feed starts with every certificate already issued, oldest first.
    op.execute(
        """
        INSERT INTO report_feed (position, kind, enrollment_id, certificate_id, at)
        SELECT row_number() OVER (ORDER BY issued_at, id), 'completion', enrollment_id, id,
               issued_at
        FROM certificates
        """
    )
    op.execute(
        """
        INSERT INTO report_feed (position, kind, enrollment_id, certificate_id, at)
        SELECT (SELECT count(*) FROM certificates)
               + row_number() OVER (ORDER BY revoked_at, id),
               'revocation', enrollment_id, id, revoked_at
        FROM certificates WHERE revoked_at IS NOT NULL
        """
    )
    op.execute(
        "INSERT INTO report_feed_counter (id, last) "
        "SELECT 1, coalesce(max(position), 0) FROM report_feed"
    )


# --- PostgreSQL ----------------------------------------------------------------

PG_FUNCTIONS = [
    # Add delta to one sharded programme counter.
    """
    CREATE FUNCTION report_bump(p_programme text, p_metric text, p_shard text, p_delta bigint)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF p_programme IS NULL OR p_delta = 0 THEN RETURN; END IF;
      INSERT INTO report_programme_counts AS r (programme_id, metric, shard, n)
      VALUES (p_programme, p_metric, p_shard, p_delta)
      ON CONFLICT (programme_id, metric, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
    END $$
    """,
    """
    CREATE FUNCTION report_bump_daily(p_programme text, p_day date, p_metric text,
                                      p_shard text, p_delta bigint)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF p_programme IS NULL OR p_day IS NULL OR p_delta = 0 THEN RETURN; END IF;
      INSERT INTO report_programme_daily AS r (programme_id, day, metric, shard, n)
      VALUES (p_programme, p_day, p_metric, p_shard, p_delta)
      ON CONFLICT (programme_id, day, metric, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
    END $$
    """,
    # Add (sign = 1) or remove (sign = -1) one enrollment row's contribution.
    """
    CREATE FUNCTION report_enrollment_apply(e_id text, e_cohort text, e_applicant text,
        e_status text, e_created timestamptz, e_completed timestamptz, sign int)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      prog text;
      sh text := right(e_cohort, 1);
      cnt int;
      issued timestamptz;
    BEGIN
      SELECT programme_id INTO prog FROM cohorts WHERE id = e_cohort;
      IF prog IS NULL THEN RETURN; END IF;
      PERFORM report_bump(prog, e_status, sh, sign);
      IF e_status IN ('enrolled', 'completed', 'failed') THEN
        PERFORM report_bump_daily(prog, (e_created AT TIME ZONE 'UTC')::date,
                                  'enrollments', sh, sign);
      END IF;
      IF e_status = 'completed' THEN
        SELECT issued_at INTO issued FROM certificates
         WHERE enrollment_id = e_id AND revoked_at IS NULL;
        IF FOUND THEN
          PERFORM report_bump(prog, 'certified', sh, sign);
          PERFORM report_bump_daily(prog, (coalesce(e_completed, issued) AT TIME ZONE 'UTC')::date,
                                    'completions', sh, sign);
        END IF;
      END IF;
      INSERT INTO report_applicant_programmes AS r (applicant_id, programme_id, n)
      VALUES (e_applicant, prog, sign)
      ON CONFLICT (applicant_id, programme_id) DO UPDATE SET n = r.n + EXCLUDED.n
      RETURNING r.n INTO cnt;
      IF (sign = 1 AND cnt = 1) OR (sign = -1 AND cnt = 0) THEN
        PERFORM report_bump(prog, 'applicants', sh, sign);
      END IF;
    END $$
    """,
    # Recompute whether an applicant is a trainee of each target covering a
    # programme, and since which day; apply the difference to the counters.
    """
    CREATE FUNCTION report_refresh_trainee(a text, prog text, sh text)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      t text;
      old_day date;
      new_day date;
    BEGIN
      IF a IS NULL OR prog IS NULL THEN RETURN; END IF;
      -- One applicant at a time: a concurrent transaction waits, then sees ours.
      PERFORM pg_advisory_xact_lock(8206, hashtext(a));
      FOR t IN SELECT target_id FROM target_programmes WHERE programme_id = prog LOOP
        SELECT first_day INTO old_day FROM report_target_members
         WHERE target_id = t AND applicant_id = a;
        SELECT min((coalesce(e.completed_at, c.issued_at) AT TIME ZONE 'UTC')::date)
          INTO new_day
          FROM enrollments e
          JOIN cohorts co ON co.id = e.cohort_id
          JOIN target_programmes tp ON tp.programme_id = co.programme_id AND tp.target_id = t
          JOIN certificates c ON c.enrollment_id = e.id AND c.revoked_at IS NULL
         WHERE e.applicant_id = a AND e.status = 'completed';
        CONTINUE WHEN old_day IS NOT DISTINCT FROM new_day;
        IF old_day IS NOT NULL THEN
          DELETE FROM report_target_members WHERE target_id = t AND applicant_id = a;
          INSERT INTO report_target_counts AS r (target_id, shard, n) VALUES (t, sh, -1)
            ON CONFLICT (target_id, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
          INSERT INTO report_target_daily AS r (target_id, day, shard, n)
            VALUES (t, old_day, sh, -1)
            ON CONFLICT (target_id, day, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
        END IF;
        IF new_day IS NOT NULL THEN
          INSERT INTO report_target_members (target_id, applicant_id, first_day)
            VALUES (t, a, new_day);
          INSERT INTO report_target_counts AS r (target_id, shard, n) VALUES (t, sh, 1)
            ON CONFLICT (target_id, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
          INSERT INTO report_target_daily AS r (target_id, day, shard, n)
            VALUES (t, new_day, sh, 1)
            ON CONFLICT (target_id, day, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
        END IF;
      END LOOP;
    END $$
    """,
    """
    CREATE FUNCTION report_enrollments_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM report_enrollment_apply(OLD.id, OLD.cohort_id, OLD.applicant_id, OLD.status,
                                        OLD.created_at, OLD.completed_at, -1);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM report_enrollment_apply(NEW.id, NEW.cohort_id, NEW.applicant_id, NEW.status,
                                        NEW.created_at, NEW.completed_at, 1);
      END IF;
      IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'completed' THEN
        PERFORM report_refresh_trainee(OLD.applicant_id,
          (SELECT programme_id FROM cohorts WHERE id = OLD.cohort_id), right(OLD.cohort_id, 1));
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'completed' THEN
        PERFORM report_refresh_trainee(NEW.applicant_id,
          (SELECT programme_id FROM cohorts WHERE id = NEW.cohort_id), right(NEW.cohort_id, 1));
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION report_certificates_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      e enrollments%ROWTYPE;
      prog text;
      sh text;
      pos bigint;
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        -- Serialise with status changes of the enrollment (they read certificates).
        SELECT * INTO e FROM enrollments WHERE id = OLD.enrollment_id FOR NO KEY UPDATE;
        IF FOUND THEN
          SELECT programme_id INTO prog FROM cohorts WHERE id = e.cohort_id;
          sh := right(e.cohort_id, 1);
          IF OLD.revoked_at IS NULL AND e.status = 'completed' THEN
            PERFORM report_bump(prog, 'certified', sh, -1);
            PERFORM report_bump_daily(prog,
              (coalesce(e.completed_at, OLD.issued_at) AT TIME ZONE 'UTC')::date,
              'completions', sh, -1);
          END IF;
          PERFORM report_refresh_trainee(e.applicant_id, prog, sh);
        END IF;
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT * INTO e FROM enrollments WHERE id = NEW.enrollment_id FOR NO KEY UPDATE;
        IF FOUND THEN
          SELECT programme_id INTO prog FROM cohorts WHERE id = e.cohort_id;
          sh := right(e.cohort_id, 1);
          IF NEW.revoked_at IS NULL AND e.status = 'completed' THEN
            PERFORM report_bump(prog, 'certified', sh, 1);
            PERFORM report_bump_daily(prog,
              (coalesce(e.completed_at, NEW.issued_at) AT TIME ZONE 'UTC')::date,
              'completions', sh, 1);
          END IF;
          PERFORM report_refresh_trainee(e.applicant_id, prog, sh);
        END IF;
        -- The feed: the counter row stays locked until commit, so positions
        -- follow commit order.
        IF (TG_OP = 'INSERT' AND NEW.revoked_at IS NULL)
           OR (TG_OP = 'UPDATE' AND OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NULL) THEN
          UPDATE report_feed_counter SET last = last + 1 WHERE id = 1 RETURNING last INTO pos;
          INSERT INTO report_feed (position, kind, enrollment_id, certificate_id, at)
          VALUES (pos, 'completion', NEW.enrollment_id, NEW.id,
                  CASE WHEN TG_OP = 'INSERT' THEN NEW.issued_at ELSE now() END);
        ELSIF TG_OP = 'UPDATE' AND OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
          UPDATE report_feed_counter SET last = last + 1 WHERE id = 1 RETURNING last INTO pos;
          INSERT INTO report_feed (position, kind, enrollment_id, certificate_id, at)
          VALUES (pos, 'revocation', NEW.enrollment_id, NEW.id, NEW.revoked_at);
        END IF;
      END IF;
      RETURN NULL;
    END $$
    """,
    # A target's trainees are rebuilt whenever its programme list changes.
    """
    CREATE FUNCTION report_rebuild_target(t text) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      -- Wait for in-flight completions so none is missed by the rebuild.
      LOCK TABLE enrollments, certificates IN SHARE MODE;
      DELETE FROM report_target_members WHERE target_id = t;
      DELETE FROM report_target_counts WHERE target_id = t;
      DELETE FROM report_target_daily WHERE target_id = t;
      INSERT INTO report_target_members (target_id, applicant_id, first_day)
      SELECT t, e.applicant_id, min((coalesce(e.completed_at, c.issued_at) AT TIME ZONE 'UTC')::date)
        FROM target_programmes tp
        JOIN cohorts co ON co.programme_id = tp.programme_id
        JOIN enrollments e ON e.cohort_id = co.id
        JOIN certificates c ON c.enrollment_id = e.id AND c.revoked_at IS NULL
       WHERE tp.target_id = t AND e.status = 'completed'
       GROUP BY e.applicant_id;
      INSERT INTO report_target_counts (target_id, shard, n)
      SELECT t, '0', count(*) FROM report_target_members WHERE target_id = t;
      INSERT INTO report_target_daily (target_id, day, shard, n)
      SELECT t, first_day, '0', count(*) FROM report_target_members
       WHERE target_id = t GROUP BY first_day;
    END $$
    """,
    """
    CREATE FUNCTION report_target_programmes_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM report_rebuild_target(OLD.target_id);
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM report_rebuild_target(NEW.target_id);
      END IF;
      RETURN NULL;
    END $$
    """,
]

PG_TRIGGERS = [
    "CREATE TRIGGER report_enrollments_ins AFTER INSERT ON enrollments "
    "FOR EACH ROW EXECUTE FUNCTION report_enrollments_trg()",
    "CREATE TRIGGER report_enrollments_upd "
    "AFTER UPDATE OF status, cohort_id, applicant_id, created_at, completed_at ON enrollments "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.cohort_id IS DISTINCT FROM NEW.cohort_id "
    "OR OLD.applicant_id IS DISTINCT FROM NEW.applicant_id "
    "OR OLD.created_at IS DISTINCT FROM NEW.created_at "
    "OR OLD.completed_at IS DISTINCT FROM NEW.completed_at) "
    "EXECUTE FUNCTION report_enrollments_trg()",
    "CREATE TRIGGER report_enrollments_del AFTER DELETE ON enrollments "
    "FOR EACH ROW EXECUTE FUNCTION report_enrollments_trg()",
    "CREATE TRIGGER report_certificates_ins AFTER INSERT ON certificates "
    "FOR EACH ROW EXECUTE FUNCTION report_certificates_trg()",
    "CREATE TRIGGER report_certificates_upd "
    "AFTER UPDATE OF revoked_at, issued_at, enrollment_id ON certificates "
    "FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at "
    "OR OLD.issued_at IS DISTINCT FROM NEW.issued_at "
    "OR OLD.enrollment_id IS DISTINCT FROM NEW.enrollment_id) "
    "EXECUTE FUNCTION report_certificates_trg()",
    "CREATE TRIGGER report_certificates_del AFTER DELETE ON certificates "
    "FOR EACH ROW EXECUTE FUNCTION report_certificates_trg()",
    "CREATE TRIGGER report_target_programmes_chg AFTER INSERT OR UPDATE OR DELETE "
    "ON target_programmes FOR EACH ROW EXECUTE FUNCTION report_target_programmes_trg()",
]

PG_FUNCTION_NAMES = [
    "report_target_programmes_trg()",
    "report_rebuild_target(text)",
    "report_certificates_trg()",
    "report_enrollments_trg()",
    "report_refresh_trainee(text, text, text)",
    "report_enrollment_apply(text, text, text, text, timestamptz, timestamptz, int)",
    "report_bump_daily(text, date, text, text, bigint)",
    "report_bump(text, text, text, bigint)",
]

TRIGGERS = [
    ("report_enrollments_ins", "enrollments"),
    ("report_enrollments_upd", "enrollments"),
    ("report_enrollments_del", "enrollments"),
    ("report_certificates_ins", "certificates"),
    ("report_certificates_upd", "certificates"),
    ("report_certificates_del", "certificates"),
    ("report_target_programmes_chg", "target_programmes"),
]


# --- SQLite ------------------------------------------------------------------
# No functions or variables: each trigger body is generated from the pieces
# below, with R standing for NEW or OLD and S for +1 or -1. SQLite runs one
# writer at a time, so there is no concurrency to guard against.

_UPSERT_COUNT = (
    "INSERT INTO report_programme_counts (programme_id, metric, shard, n) {select} "
    "ON CONFLICT (programme_id, metric, shard) DO UPDATE SET n = n + excluded.n;"
)
_UPSERT_DAILY = (
    "INSERT INTO report_programme_daily (programme_id, day, metric, shard, n) {select} "
    "ON CONFLICT (programme_id, day, metric, shard) DO UPDATE SET n = n + excluded.n;"
)
_UPSERT_TCOUNT = (
    "INSERT INTO report_target_counts (target_id, shard, n) {select} "
    "ON CONFLICT (target_id, shard) DO UPDATE SET n = n + excluded.n;"
)
_UPSERT_TDAILY = (
    "INSERT INTO report_target_daily (target_id, day, shard, n) {select} "
    "ON CONFLICT (target_id, day, shard) DO UPDATE SET n = n + excluded.n;"
)


def _sqlite_enrollment_apply(r: str, s: int) -> str:
    sh = f"substr({r}.cohort_id, -1)"
    co = f"FROM cohorts co WHERE co.id = {r}.cohort_id"
    cert = (
        f"FROM cohorts co JOIN certificates c ON c.enrollment_id = {r}.id "
        f"AND c.revoked_at IS NULL WHERE co.id = {r}.cohort_id AND {r}.status = 'completed'"
    )
    first = 1 if s == 1 else 0
    return "\n".join(
        [
            _UPSERT_COUNT.format(select=f"SELECT co.programme_id, {r}.status, {sh}, {s} {co}"),
            _UPSERT_DAILY.format(
                select=f"SELECT co.programme_id, date({r}.created_at), 'enrollments', {sh}, {s} "
                f"{co} AND {r}.status IN {SEATED}"
            ),
            _UPSERT_COUNT.format(select=f"SELECT co.programme_id, 'certified', {sh}, {s} {cert}"),
            _UPSERT_DAILY.format(
                select=f"SELECT co.programme_id, date(coalesce({r}.completed_at, c.issued_at)), "
                f"'completions', {sh}, {s} {cert}"
            ),
            "INSERT INTO report_applicant_programmes (applicant_id, programme_id, n) "
            f"SELECT {r}.applicant_id, co.programme_id, {s} {co} "
            "ON CONFLICT (applicant_id, programme_id) DO UPDATE SET n = n + excluded.n;",
            _UPSERT_COUNT.format(
                select=f"SELECT co.programme_id, 'applicants', {sh}, {s} FROM cohorts co "
                "JOIN report_applicant_programmes ap ON ap.programme_id = co.programme_id "
                f"AND ap.applicant_id = {r}.applicant_id "
                f"WHERE co.id = {r}.cohort_id AND ap.n = {first}"
            ),
        ]
    )


def _sqlite_refresh_trainee(applicant: str, programme: str, sh: str, guard: str) -> str:
    """Forget the applicant in every target covering the programme, then re-add.

    Each statement runs only when ``guard`` holds (a completion may have changed).
    """
    covering = (
        f"(SELECT target_id FROM target_programmes WHERE programme_id = {programme} AND ({guard}))"
    )
    members = (
        f"FROM report_target_members m WHERE m.applicant_id = {applicant} "
        f"AND m.target_id IN {covering}"
    )
    return "\n".join(
        [
            _UPSERT_TCOUNT.format(select=f"SELECT m.target_id, {sh}, -1 {members}"),
            _UPSERT_TDAILY.format(select=f"SELECT m.target_id, m.first_day, {sh}, -1 {members}"),
            f"DELETE FROM report_target_members WHERE applicant_id = {applicant} "
            f"AND target_id IN {covering};",
            "INSERT INTO report_target_members (target_id, applicant_id, first_day) "
            f"SELECT tp.target_id, {applicant}, min(date(coalesce(e.completed_at, c.issued_at))) "
            "FROM enrollments e "
            "JOIN certificates c ON c.enrollment_id = e.id AND c.revoked_at IS NULL "
            "JOIN cohorts co ON co.id = e.cohort_id "
            "JOIN target_programmes tp ON tp.programme_id = co.programme_id "
            f"WHERE e.applicant_id = {applicant} AND e.status = 'completed' "
            f"AND tp.target_id IN {covering} GROUP BY tp.target_id;",
            _UPSERT_TCOUNT.format(select=f"SELECT m.target_id, {sh}, 1 {members}"),
            _UPSERT_TDAILY.format(select=f"SELECT m.target_id, m.first_day, {sh}, 1 {members}"),
        ]
    )


def _sqlite_refresh_for_enrollment(r: str, guard: str) -> str:
    return _sqlite_refresh_trainee(
        f"{r}.applicant_id",
        f"(SELECT programme_id FROM cohorts WHERE id = {r}.cohort_id)",
        f"substr({r}.cohort_id, -1)",
        guard,
    )


def _sqlite_certificate_apply(r: str, s: int) -> str:
    sh = "substr(e.cohort_id, -1)"
    src = (
        f"FROM enrollments e JOIN cohorts co ON co.id = e.cohort_id "
        f"WHERE e.id = {r}.enrollment_id AND e.status = 'completed' AND {r}.revoked_at IS NULL"
    )
    return "\n".join(
        [
            _UPSERT_COUNT.format(select=f"SELECT co.programme_id, 'certified', {sh}, {s} {src}"),
            _UPSERT_DAILY.format(
                select=f"SELECT co.programme_id, date(coalesce(e.completed_at, {r}.issued_at)), "
                f"'completions', {sh}, {s} {src}"
            ),
        ]
    )


def _sqlite_refresh_for_certificate(r: str) -> str:
    e = f"(SELECT {{col}} FROM enrollments WHERE id = {r}.enrollment_id)"
    return _sqlite_refresh_trainee(
        e.format(col="applicant_id"),
        "(SELECT co.programme_id FROM enrollments e JOIN cohorts co ON co.id = e.cohort_id "
        f"WHERE e.id = {r}.enrollment_id)",
        f"substr({e.format(col='cohort_id')}, -1)",
        "1 = 1",
    )


def _sqlite_feed(kind: str, at: str) -> str:
    return (
        "UPDATE report_feed_counter SET last = last + 1 WHERE id = 1;\n"
        "INSERT INTO report_feed (position, kind, enrollment_id, certificate_id, at) "
        f"SELECT last, '{kind}', NEW.enrollment_id, NEW.id, {at} "
        "FROM report_feed_counter WHERE id = 1;"
    )


def _sqlite_rebuild_target(t: str) -> str:
    return "\n".join(
        [
            f"DELETE FROM report_target_members WHERE target_id = {t};",
            f"DELETE FROM report_target_counts WHERE target_id = {t};",
            f"DELETE FROM report_target_daily WHERE target_id = {t};",
            "INSERT INTO report_target_members (target_id, applicant_id, first_day) "
            f"SELECT {t}, e.applicant_id, min(date(coalesce(e.completed_at, c.issued_at))) "
            "FROM target_programmes tp JOIN cohorts co ON co.programme_id = tp.programme_id "
            "JOIN enrollments e ON e.cohort_id = co.id "
            "JOIN certificates c ON c.enrollment_id = e.id AND c.revoked_at IS NULL "
            f"WHERE tp.target_id = {t} AND e.status = 'completed' GROUP BY e.applicant_id;",
            "INSERT INTO report_target_counts (target_id, shard, n) "
            f"SELECT {t}, '0', count(*) FROM report_target_members WHERE target_id = {t};",
            "INSERT INTO report_target_daily (target_id, day, shard, n) "
            f"SELECT {t}, first_day, '0', count(*) FROM report_target_members "
            f"WHERE target_id = {t} GROUP BY first_day;",
        ]
    )


def _sqlite_triggers() -> list[str]:
    enrollment_changed = (
        "OLD.status IS NOT NEW.status OR OLD.cohort_id IS NOT NEW.cohort_id "
        "OR OLD.applicant_id IS NOT NEW.applicant_id OR OLD.created_at IS NOT NEW.created_at "
        "OR OLD.completed_at IS NOT NEW.completed_at"
    )
    certificate_changed = (
        "OLD.revoked_at IS NOT NEW.revoked_at OR OLD.issued_at IS NOT NEW.issued_at "
        "OR OLD.enrollment_id IS NOT NEW.enrollment_id"
    )

    def trigger(name: str, event: str, table: str, body: list[str], when: str = "") -> str:
        when_sql = f" WHEN {when}" if when else ""
        return (
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when_sql}\n"
            "BEGIN\n" + "\n".join(body) + "\nEND"
        )

    return [
        trigger(
            "report_enrollments_ins",
            "INSERT",
            "enrollments",
            [_sqlite_enrollment_apply("NEW", 1)],
        ),
        trigger(
            "report_enrollments_upd",
            "UPDATE OF status, cohort_id, applicant_id, created_at, completed_at",
            "enrollments",
            [
                _sqlite_enrollment_apply("OLD", -1),
                _sqlite_enrollment_apply("NEW", 1),
                _sqlite_refresh_for_enrollment("OLD", "OLD.status = 'completed'"),
                _sqlite_refresh_for_enrollment("NEW", "NEW.status = 'completed'"),
            ],
            when=f"({enrollment_changed})",
        ),
        trigger(
            "report_enrollments_del",
            "DELETE",
            "enrollments",
            [
                _sqlite_enrollment_apply("OLD", -1),
                _sqlite_refresh_for_enrollment("OLD", "OLD.status = 'completed'"),
            ],
        ),
        trigger(
            "report_certificates_ins",
            "INSERT",
            "certificates",
            [
                _sqlite_certificate_apply("NEW", 1),
                _sqlite_refresh_for_certificate("NEW"),
            ],
        ),
        trigger(
            "report_certificates_feed_ins",
            "INSERT",
            "certificates",
            [_sqlite_feed("completion", "NEW.issued_at")],
            when="NEW.revoked_at IS NULL",
        ),
        trigger(
            "report_certificates_upd",
            "UPDATE OF revoked_at, issued_at, enrollment_id",
            "certificates",
            [
                _sqlite_certificate_apply("OLD", -1),
                _sqlite_certificate_apply("NEW", 1),
                _sqlite_refresh_for_certificate("OLD"),
                _sqlite_refresh_for_certificate("NEW"),
            ],
            when=f"({certificate_changed})",
        ),
        trigger(
            "report_certificates_feed_revoke",
            "UPDATE OF revoked_at",
            "certificates",
            [_sqlite_feed("revocation", "NEW.revoked_at")],
            when="OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL",
        ),
        trigger(
            "report_certificates_feed_unrevoke",
            "UPDATE OF revoked_at",
            "certificates",
            [_sqlite_feed("completion", "datetime('now')")],
            when="OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NULL",
        ),
        trigger(
            "report_certificates_del",
            "DELETE",
            "certificates",
            [_sqlite_certificate_apply("OLD", -1), _sqlite_refresh_for_certificate("OLD")],
        ),
        trigger(
            "report_target_programmes_ins",
            "INSERT",
            "target_programmes",
            [_sqlite_rebuild_target("NEW.target_id")],
        ),
        trigger(
            "report_target_programmes_upd",
            "UPDATE",
            "target_programmes",
            [_sqlite_rebuild_target("OLD.target_id"), _sqlite_rebuild_target("NEW.target_id")],
        ),
        trigger(
            "report_target_programmes_del",
            "DELETE",
            "target_programmes",
            [_sqlite_rebuild_target("OLD.target_id")],
        ),
    ]


SQLITE_TRIGGER_NAMES = [
    "report_enrollments_ins",
    "report_enrollments_upd",
    "report_enrollments_del",
    "report_certificates_ins",
    "report_certificates_feed_ins",
    "report_certificates_upd",
    "report_certificates_feed_revoke",
    "report_certificates_feed_unrevoke",
    "report_certificates_del",
    "report_target_programmes_ins",
    "report_target_programmes_upd",
    "report_target_programmes_del",
]


def upgrade() -> None:
    d = Dialect(op.get_bind().dialect.name)
    _create_tables()
    _backfill(d)
    if d.pg:
        for sql in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(sql)
    else:
        for sql in _sqlite_triggers():
            op.execute(sql)


def downgrade() -> None:
    d = Dialect(op.get_bind().dialect.name)
    if d.pg:
        for name, table in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for fn in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollments_status_created_at")
        batch_op.drop_index("ix_enrollments_status_completed_at")
    for table in TABLES:
        op.drop_table(table)
