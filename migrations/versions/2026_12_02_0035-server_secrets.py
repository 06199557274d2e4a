"""server secrets: the database's own random secret for reporter pseudonyms

Reporter keys see enrollment and applicant ids only as pseudonyms: HMAC-SHA256
keyed per API key with HMAC(this secret, key id) (service/core/pseudonyms.py).
The secret is made here, once per database, so every process and every
restart compute the same pseudonyms; downgrading drops it (and so changes
every pseudonym after the next upgrade).

Revision ID: 0005_server_secrets
Revises: 0004_applicant_links
Create Date: 2026-12-02 00:30:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_server_secrets"
down_revision: str | None = "0004_applicant_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    op.bulk_insert(table, [{"name": "pseudonyms", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("server_secrets")
