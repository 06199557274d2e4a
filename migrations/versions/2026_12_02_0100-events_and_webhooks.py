"""events and webhooks: the transactional outbox, endpoints, deliveries

Every change to applicants, enrollments (through their audit trail
``enrollment_events``), certificates and cohorts writes its ``events`` row
from a database trigger (plpgsql on PostgreSQL, SQL triggers on SQLite), so
each code path that writes those tables — the one-statement enrollment, bulk
completions, CSV and CLI imports, cohort cancel/complete — emits in the same
transaction. Other types are written by ``service.events.emit``.

On PostgreSQL each row carries its transaction's id (``xid``) for the
commit-ordered feed.

Revision ID: 0008_events_webhooks
Revises: 0007_places
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.models.base

revision: str = "0008_events_webhooks"
down_revision: str | None = "0007_places"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACT = ("email", "phone", "district", "province", "education_level")
COHORT_FIELDS = (
    "code",
    "programme_id",
    "centre_id",
    "name",
    "track",
    "start_date",
    "end_date",
    "capacity",
    "mode",
    "min_age",
    "max_age",
    "pass_score",
    "min_attendance",
)
COHORT_TYPE = (
    "CASE {s} WHEN 'in_progress' THEN 'cohort.started' WHEN 'completed' THEN 'cohort.completed' "
    "WHEN 'cancelled' THEN 'cohort.cancelled' ELSE 'cohort.updated' END"
)


def _create_tables() -> None:
    dt = service.models.base.UTCDateTime()
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", dt, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("applicant_id", sa.String(length=36), nullable=True),
        sa.Column("centre_id", sa.String(length=36), nullable=True),
        sa.Column("webhook_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("id", name=op.f("uq_events_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_events_xid_seq"), "events", ["xid", "seq"], unique=False)
    op.create_index(op.f("ix_events_occurred_at"), "events", ["occurred_at"], unique=False)
    op.create_table(
        "webhooks",
        sa.Column("api_key_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("previous_secret", sa.String(length=100), nullable=True),
        sa.Column("previous_secret_expires_at", dt, nullable=True),
        sa.Column("failing_since", dt, nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("updated_at", dt, nullable=False),
        sa.Column("created_at", dt, nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_webhooks_api_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(op.f("ix_webhooks_api_key_id"), "webhooks", ["api_key_id"], unique=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column(
            "event_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", dt, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("leased_until", dt, nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("updated_at", dt, nullable=False),
        sa.Column("created_at", dt, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_seq"], ["events.seq"], name=op.f("fk_webhook_deliveries_event_seq_events")
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"),
        "webhook_deliveries",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhook_deliveries_webhook_id_id"),
        "webhook_deliveries",
        ["webhook_id", "id"],
        unique=False,
    )
    fanout = op.create_table(
        "webhook_fanout",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("after_xid", sa.BigInteger(), nullable=False),
        sa.Column("after_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_fanout")),
    )
    # Fan-out starts at the migration: events written before it have no endpoint anyway.
    op.bulk_insert(fanout, [{"id": 1, "after_xid": 0, "after_seq": 0}])


# --- PostgreSQL ------------------------------------------------------------------

PG_FUNCTIONS = [
    """
    CREATE FUNCTION events_emit(p_type text, p_at timestamptz, p_data json,
                                p_applicant text, p_centre text) RETURNS void
    LANGUAGE sql AS $$
      INSERT INTO events (id, xid, type, occurred_at, data, applicant_id, centre_id)
      VALUES (gen_random_uuid()::text, pg_current_xact_id()::text::bigint, p_type, p_at,
              p_data::text, p_applicant, p_centre)
    $$
    """,
    """
    CREATE FUNCTION events_enrollment_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r record; pos bigint;
    BEGIN
      SELECT e.applicant_id, e.cohort_id, e.queue_no, c.code AS cohort, c.centre_id,
             ce.code AS centre, p.code AS programme
        INTO r
        FROM enrollments e JOIN cohorts c ON c.id = e.cohort_id
        JOIN centres ce ON ce.id = c.centre_id JOIN programmes p ON p.id = c.programme_id
       WHERE e.id = NEW.enrollment_id;
      IF NEW.to_status = 'waitlisted' THEN
        SELECT count(*) INTO pos FROM enrollments w
         WHERE w.cohort_id = r.cohort_id AND w.status = 'waitlisted' AND w.queue_no <= r.queue_no;
      END IF;
      PERFORM events_emit('enrollment.' || NEW.to_status, NEW.at, json_build_object(
        'enrollment_id', NEW.enrollment_id, 'applicant_id', r.applicant_id,
        'cohort_id', r.cohort_id, 'cohort', r.cohort, 'programme', r.programme,
        'centre', r.centre, 'status', NEW.to_status, 'from', NEW.from_status,
        'to', NEW.to_status, 'reason', NEW.reason, 'waitlist_position', pos),
        r.applicant_id, r.centre_id);
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION events_applicant_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM events_emit('applicant.registered', NEW.created_at,
          json_build_object('applicant_id', NEW.id), NEW.id, NULL);
      ELSE
        PERFORM events_emit('applicant.updated', NEW.updated_at,
          json_build_object('applicant_id', NEW.id), NEW.id, NULL);
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION events_certificate_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r record;
    BEGIN
      SELECT e.applicant_id, e.cohort_id, c.code AS cohort, c.centre_id,
             ce.code AS centre, p.code AS programme
        INTO r
        FROM enrollments e JOIN cohorts c ON c.id = e.cohort_id
        JOIN centres ce ON ce.id = c.centre_id JOIN programmes p ON p.id = c.programme_id
       WHERE e.id = NEW.enrollment_id;
      IF TG_OP = 'INSERT' THEN
        PERFORM events_emit('certificate.issued', NEW.issued_at, json_build_object(
          'certificate_code', NEW.code, 'enrollment_id', NEW.enrollment_id,
          'applicant_id', r.applicant_id, 'cohort_id', r.cohort_id, 'cohort', r.cohort,
          'programme', r.programme, 'centre', r.centre), r.applicant_id, r.centre_id);
      ELSE
        PERFORM events_emit('certificate.revoked', NEW.revoked_at, json_build_object(
          'certificate_code', NEW.code, 'enrollment_id', NEW.enrollment_id,
          'applicant_id', r.applicant_id, 'cohort_id', r.cohort_id, 'cohort', r.cohort,
          'programme', r.programme, 'centre', r.centre, 'reason', NEW.revoked_reason),
          r.applicant_id, r.centre_id);
      END IF;
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION events_cohort_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r record;
    BEGIN
      SELECT ce.code AS centre, p.code AS programme INTO r
        FROM centres ce, programmes p WHERE ce.id = NEW.centre_id AND p.id = NEW.programme_id;
      PERFORM events_emit(
        CASE WHEN TG_OP = 'INSERT' THEN 'cohort.created'
             WHEN TG_ARGV[0] = 'status' THEN {COHORT_TYPE.format(s="NEW.status")}
             ELSE 'cohort.updated' END,
        CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE NEW.updated_at END,
        json_build_object('cohort_id', NEW.id, 'cohort', NEW.code, 'programme', r.programme,
                          'centre', r.centre, 'status', NEW.status),
        NULL, NEW.centre_id);
      RETURN NULL;
    END $$
    """,
]


def _distinct(columns: Sequence[str], op_: str = "IS DISTINCT FROM") -> str:
    return " OR ".join(f"OLD.{c} {op_} NEW.{c}" for c in columns)


PG_TRIGGERS = [
    # An audit row without a status change (a revocation's note) is no enrollment event.
    "CREATE TRIGGER events_enrollment_events_ins AFTER INSERT ON enrollment_events "
    "FOR EACH ROW WHEN (NEW.from_status IS DISTINCT FROM NEW.to_status) "
    "EXECUTE FUNCTION events_enrollment_trg()",
    "CREATE TRIGGER events_applicants_ins AFTER INSERT ON applicants "
    "FOR EACH ROW EXECUTE FUNCTION events_applicant_trg()",
    f"CREATE TRIGGER events_applicants_upd AFTER UPDATE OF {', '.join(CONTACT)} ON applicants "
    f"FOR EACH ROW WHEN ({_distinct(CONTACT)}) EXECUTE FUNCTION events_applicant_trg()",
    "CREATE TRIGGER events_certificates_ins AFTER INSERT ON certificates "
    "FOR EACH ROW EXECUTE FUNCTION events_certificate_trg()",
    "CREATE TRIGGER events_certificates_upd AFTER UPDATE OF revoked_at ON certificates "
    "FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) "
    "EXECUTE FUNCTION events_certificate_trg()",
    "CREATE TRIGGER events_cohorts_ins AFTER INSERT ON cohorts "
    "FOR EACH ROW EXECUTE FUNCTION events_cohort_trg()",
    "CREATE TRIGGER events_cohorts_status AFTER UPDATE OF status ON cohorts "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) "
    "EXECUTE FUNCTION events_cohort_trg('status')",
    f"CREATE TRIGGER events_cohorts_upd AFTER UPDATE OF {', '.join(COHORT_FIELDS)} ON cohorts "
    f"FOR EACH ROW WHEN ({_distinct(COHORT_FIELDS)}) EXECUTE FUNCTION events_cohort_trg('fields')",
]

TRIGGERS = [
    ("events_enrollment_events_ins", "enrollment_events"),
    ("events_applicants_ins", "applicants"),
    ("events_applicants_upd", "applicants"),
    ("events_certificates_ins", "certificates"),
    ("events_certificates_upd", "certificates"),
    ("events_cohorts_ins", "cohorts"),
    ("events_cohorts_status", "cohorts"),
    ("events_cohorts_upd", "cohorts"),
]

PG_FUNCTION_NAMES = [
    "events_cohort_trg()",
    "events_certificate_trg()",
    "events_applicant_trg()",
    "events_enrollment_trg()",
    "events_emit(text, timestamptz, json, text, text)",
]

# --- SQLite ------------------------------------------------------------------------

SQLITE_UUID = (
    "lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-' "
    "|| substr('89ab', 1 + (abs(random()) % 4), 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12))"
)


def _sqlite_insert(type_: str, at: str, data: str, applicant: str, centre: str, src: str) -> str:
    """INSERT one event; ``src`` is the FROM clause the expressions read (``h`` is random hex)."""
    return (
        "INSERT INTO events (id, xid, type, occurred_at, data, applicant_id, centre_id) "
        f"SELECT {SQLITE_UUID}, 0, {type_}, {at}, {data}, {applicant}, {centre} "
        f"FROM (SELECT hex(randomblob(16)) AS h) AS rnd{src};"
    )


_ENROLLMENT_JOIN = (
    ", enrollments e JOIN cohorts c ON c.id = e.cohort_id "
    "JOIN centres ce ON ce.id = c.centre_id JOIN programmes p ON p.id = c.programme_id "
    "WHERE e.id = NEW.enrollment_id"
)


def _sqlite_triggers() -> list[str]:
    def trigger(name: str, event: str, table: str, body: str, when: str = "") -> str:
        when_sql = f" WHEN {when}" if when else ""
        return (
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when_sql}\n"
            f"BEGIN\n{body}\nEND"
        )

    position = (
        "CASE WHEN NEW.to_status = 'waitlisted' THEN (SELECT count(*) FROM enrollments w "
        "WHERE w.cohort_id = e.cohort_id AND w.status = 'waitlisted' "
        "AND w.queue_no <= e.queue_no) END"
    )
    enrollment_data = (
        "json_object('enrollment_id', NEW.enrollment_id, 'applicant_id', e.applicant_id, "
        "'cohort_id', e.cohort_id, 'cohort', c.code, 'programme', p.code, 'centre', ce.code, "
        "'status', NEW.to_status, 'from', NEW.from_status, 'to', NEW.to_status, "
        f"'reason', NEW.reason, 'waitlist_position', {position})"
    )
    certificate_data = (
        "json_object('certificate_code', NEW.code, 'enrollment_id', NEW.enrollment_id, "
        "'applicant_id', e.applicant_id, 'cohort_id', e.cohort_id, 'cohort', c.code, "
        "'programme', p.code, 'centre', ce.code{extra})"
    )
    cohort_data = (
        "json_object('cohort_id', NEW.id, 'cohort', NEW.code, 'programme', p.code, "
        "'centre', ce.code, 'status', NEW.status)"
    )
    cohort_src = (
        ", centres ce, programmes p WHERE ce.id = NEW.centre_id AND p.id = NEW.programme_id"
    )
    applicant_data = "json_object('applicant_id', NEW.id)"
    return [
        trigger(
            "events_enrollment_events_ins",
            "INSERT",
            "enrollment_events",
            _sqlite_insert(
                "'enrollment.' || NEW.to_status",
                "NEW.at",
                enrollment_data,
                "e.applicant_id",
                "c.centre_id",
                _ENROLLMENT_JOIN,
            ),
            when="NEW.from_status IS NOT NEW.to_status",
        ),
        trigger(
            "events_applicants_ins",
            "INSERT",
            "applicants",
            _sqlite_insert(
                "'applicant.registered'", "NEW.created_at", applicant_data, "NEW.id", "NULL", ""
            ),
        ),
        trigger(
            "events_applicants_upd",
            "UPDATE OF " + ", ".join(CONTACT),
            "applicants",
            _sqlite_insert(
                "'applicant.updated'", "NEW.updated_at", applicant_data, "NEW.id", "NULL", ""
            ),
            when=_distinct(CONTACT, "IS NOT"),
        ),
        trigger(
            "events_certificates_ins",
            "INSERT",
            "certificates",
            _sqlite_insert(
                "'certificate.issued'",
                "NEW.issued_at",
                certificate_data.format(extra=""),
                "e.applicant_id",
                "c.centre_id",
                _ENROLLMENT_JOIN,
            ),
        ),
        trigger(
            "events_certificates_upd",
            "UPDATE OF revoked_at",
            "certificates",
            _sqlite_insert(
                "'certificate.revoked'",
                "NEW.revoked_at",
                certificate_data.format(extra=", 'reason', NEW.revoked_reason"),
                "e.applicant_id",
                "c.centre_id",
                _ENROLLMENT_JOIN,
            ),
            when="OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL",
        ),
        trigger(
            "events_cohorts_ins",
            "INSERT",
            "cohorts",
            _sqlite_insert(
                "'cohort.created'",
                "NEW.created_at",
                cohort_data,
                "NULL",
                "NEW.centre_id",
                cohort_src,
            ),
        ),
        trigger(
            "events_cohorts_status",
            "UPDATE OF status",
            "cohorts",
            _sqlite_insert(
                COHORT_TYPE.format(s="NEW.status"),
                "NEW.updated_at",
                cohort_data,
                "NULL",
                "NEW.centre_id",
                cohort_src,
            ),
            when="OLD.status IS NOT NEW.status",
        ),
        trigger(
            "events_cohorts_upd",
            "UPDATE OF " + ", ".join(COHORT_FIELDS),
            "cohorts",
            _sqlite_insert(
                "'cohort.updated'",
                "NEW.updated_at",
                cohort_data,
                "NULL",
                "NEW.centre_id",
                cohort_src,
            ),
            when=_distinct(COHORT_FIELDS, "IS NOT"),
        ),
    ]


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        for sql in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(sql)
    else:
        for sql in _sqlite_triggers():
            op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for fn in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    else:
        for name, _table in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("webhook_fanout")
    op.drop_index(op.f("ix_webhook_deliveries_webhook_id_id"), table_name="webhook_deliveries")
    op.drop_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"), table_name="webhook_deliveries"
    )
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhooks_api_key_id"), table_name="webhooks")
    op.drop_table("webhooks")
    op.drop_index(op.f("ix_events_occurred_at"), table_name="events")
    op.drop_index(op.f("ix_events_xid_seq"), table_name="events")
    op.drop_table("events")
