"""places: the district reference list, and existing applicants' district text mapped to it

Creates ``districts`` (code, canonical English name, Urdu name, province),
``district_aliases`` and the one-row ``places_version``, seeded from
``service/places/data/districts.csv`` (170 districts as of 2023; sources in
the README beside it).

Then every applicant whose district text names exactly one district of their
province (any case, spacing, punctuation, "District", alias, code or Urdu
name: ``service.places.matcher``) gets that district's canonical name. Texts
that name none, several, or a district of another province are left as they
are, for ``python -m service places unmatched`` / ``places map``.

On PostgreSQL the breakdown cube (0003) is keyed on district text: its
per-row applicants trigger is switched off for the remapping and the cube is
rebuilt from the base tables afterwards (one set-based backfill instead of a
trigger run per applicant), under the same locks the trigger takes, so it is
exact. The 0002 counters do not depend on district.

The downgrade drops the three tables; applicants keep their canonical names
(valid district text before this revision too).

Revision ID: 0007_places
Revises: 0006_dashboard_sessions
Create Date: 2026-12-02 00:40:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import service.models.base
from service.places.matcher import Index, Place
from service.places.seed import load_seed

revision: str = "0007_places"
down_revision: str | None = "0006_dashboard_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROVINCES = "province IN ('punjab', 'sindh', 'kp', 'balochistan', 'ict', 'gb', 'ajk')"


def _create_tables() -> None:
    op.create_table(
        "districts",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_ur", sa.String(length=80), nullable=False),
        sa.Column("province", sa.String(length=16), nullable=False),
        sa.Column("created_at", service.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(PROVINCES, name=op.f("ck_districts_province")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
        sa.UniqueConstraint("name", name=op.f("uq_districts_name")),
    )
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_districts_province"), ["province"], unique=False)
    op.create_table(
        "district_aliases",
        sa.Column("district_code", sa.String(length=64), nullable=False),
        sa.Column("alias", sa.String(length=80), nullable=False),
        sa.Column("created_at", service.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["districts.code"],
            name=op.f("fk_district_aliases_district_code_districts"),
        ),
        sa.PrimaryKeyConstraint("district_code", "alias", name=op.f("pk_district_aliases")),
    )
    op.create_table(
        "places_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("changed_at", service.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_places_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places_version")),
    )


def _seed(places: list[Place], now: datetime) -> None:
    districts = sa.table(
        "districts",
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("name_ur", sa.String()),
        sa.column("province", sa.String()),
        sa.column("created_at", service.models.base.UTCDateTime(timezone=True)),
    )
    aliases = sa.table(
        "district_aliases",
        sa.column("district_code", sa.String()),
        sa.column("alias", sa.String()),
        sa.column("created_at", service.models.base.UTCDateTime(timezone=True)),
    )
    version = sa.table(
        "places_version",
        sa.column("id", sa.Integer()),
        sa.column("token", sa.String()),
        sa.column("changed_at", service.models.base.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(
        districts,
        [
            {
                "code": p.code,
                "name": p.name,
                "name_ur": p.name_ur,
                "province": p.province,
                "created_at": now,
            }
            for p in places
        ],
    )
    op.bulk_insert(
        aliases,
        [
            {"district_code": p.code, "alias": a, "created_at": now}
            for p in places
            for a in dict.fromkeys(p.aliases)
        ],
    )
    op.bulk_insert(version, [{"id": 1, "token": str(uuid.uuid4()), "changed_at": now}])


def _remap(places: list[Place]) -> None:
    """Store the canonical name wherever an applicant's text names one district unambiguously."""
    conn = op.get_bind()
    index = Index.build(places)
    pairs = conn.execute(sa.text("SELECT DISTINCT district, province FROM applicants")).all()
    changes = []
    for text, province in pairs:
        found = index.match(text, province)
        if isinstance(found, Place) and found.name != text:
            changes.append({"name": found.name, "text": text, "province": province})
    if not changes:
        return
    pg = conn.dialect.name == "postgresql"
    if pg:
        # As the applicants trigger does: in-flight enrollment and certificate
        # writes finish first, later ones wait for this migration.
        op.execute("LOCK TABLE enrollments, certificates, applicants IN SHARE MODE")
        op.execute("ALTER TABLE applicants DISABLE TRIGGER report_cube_applicants_upd")
    conn.execute(
        sa.text(
            "UPDATE applicants SET district = :name WHERE district = :text AND province = :province"
        ),
        changes,
    )
    if pg:
        op.execute("ALTER TABLE applicants ENABLE TRIGGER report_cube_applicants_upd")
        op.execute("DELETE FROM report_breakdown_counts")
        op.execute("SELECT report_cube_backfill(NULL)")


def upgrade() -> None:
    _create_tables()
    places = load_seed()
    _seed(places, datetime.now(UTC))
    _remap(places)


def downgrade() -> None:
    op.drop_table("places_version")
    op.drop_table("district_aliases")
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_districts_province"))
    op.drop_table("districts")
