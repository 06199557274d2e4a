"""Every SQL statement about applicants (what an actor may read is in ``access``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, String, Table, any_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.schemas import CONTACT_FIELDS, STORED_FIELDS, ApplicantCreate
from service.core.auth import Actor
from service.core.db import copy_into, execute_standalone
from service.core.scope import applicants_readable_by as readable_by
from service.models import Applicant, ApplicantClient, ApplicantEvent
from service.models.base import new_id

applicants: Table = Applicant.__table__  # type: ignore[assignment]


# The columns the CSV import compares a row against: the id and the stored registration fields.
_EXISTING = select(applicants.c.id, *(applicants.c[name] for name in STORED_FIELDS))
_CNICS = bindparam("cnics", type_=postgresql.ARRAY(String))


def new_row(data: ApplicantCreate, *, key_id: str | None, now: datetime) -> dict[str, Any]:
    """Every column of a new applicant registered with ``data`` by ``key_id`` at ``now``."""
    return {
        "id": new_id(),
        **data.stored(),
        "consent_at": now,
        "created_at": now,
        "updated_at": now,
        "created_by_key_id": key_id,
        "updated_by_key_id": None,
    }


async def by_cnic(session: AsyncSession, cnic: str) -> Applicant | None:
    return await session.scalar(select(Applicant).where(Applicant.cnic == cnic))


def _insert_unless_registered(dialect: str) -> Any:
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert_(applicants)
        .values({column.name: bindparam(column.name) for column in applicants.c})
        .on_conflict_do_nothing(index_elements=[applicants.c.cnic])
        .returning(*applicants.c)
    )


# Built once per dialect: registration is the hottest write path.
_INSERT_UNLESS_REGISTERED = {
    dialect: _insert_unless_registered(dialect) for dialect in ("postgresql", "sqlite")
}


async def insert_unless_registered(
    session: AsyncSession, values: Mapping[str, Any]
) -> Row[Any] | None:
    """INSERT the applicant unless its CNIC exists; the new row, or None on a duplicate."""
    stmt = _INSERT_UNLESS_REGISTERED[session.get_bind().dialect.name]
    # One atomic statement: on PostgreSQL it commits by itself unless the request
    # already holds a transaction (an Idempotency-Key record), which it then joins.
    result = await execute_standalone(session, stmt, values)
    return result.first()


async def readable_by_cnic(session: AsyncSession, actor: Actor, cnic: str) -> Sequence[Applicant]:
    stmt = select(Applicant).where(Applicant.cnic == cnic, readable_by(actor))
    return (await session.scalars(stmt)).all()


async def existing_by_cnic(
    session: AsyncSession, cnics: Collection[str]
) -> dict[str, dict[str, Any]]:
    """One SELECT for a batch of CNICs: {cnic: {"id", *STORED_FIELDS}}."""
    if not cnics:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter: the statement is compiled once, not once per batch size.
        stmt = _EXISTING.where(applicants.c.cnic == any_(_CNICS))
        rows = (await session.execute(stmt, {"cnics": list(cnics)})).all()
    else:
        rows = (await session.execute(_EXISTING.where(applicants.c.cnic.in_(list(cnics))))).all()
    return {row.cnic: row._asdict() for row in rows}


async def insert_many(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """A batch of new applicants: one COPY on PostgreSQL (its outbox rows are written by
    one statement trigger), else one executemany INSERT (the driver batches it)."""
    if rows and not await copy_into(session, applicants, rows):
        await session.execute(insert(applicants), list(rows))


_UPDATE_CONTACT = (
    update(applicants)
    .where(applicants.c.id == bindparam("b_id"))
    .values(
        {name: bindparam(name) for name in (*CONTACT_FIELDS, "updated_at", "updated_by_key_id")}
    )
)


async def update_contacts(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """UPDATE the contact fields of the changed applicants (``b_id`` names each row)."""
    if rows:
        await session.execute(_UPDATE_CONTACT, list(rows))


# --- links to a second client, and the applicant's audit events ---

_links: Table = ApplicantClient.__table__  # type: ignore[assignment]


async def link_client(
    session: AsyncSession, applicant_id: str, key_id: str, *, consent_at: datetime
) -> bool:
    """Link ``key_id`` to the applicant; False when it was linked already (nothing written)."""
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert_(_links)
        .values(
            applicant_id=applicant_id, key_id=key_id, consent_at=consent_at, linked_at=consent_at
        )
        .on_conflict_do_nothing(index_elements=[_links.c.applicant_id, _links.c.key_id])
        .returning(_links.c.key_id)
    )
    return (await session.execute(stmt)).first() is not None


def add_event(session: AsyncSession, event: ApplicantEvent) -> None:
    """Record an audit event in the request's transaction (written at the next flush)."""
    session.add(event)
