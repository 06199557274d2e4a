"""Every SQL statement about applicants (what an actor may read is in ``access``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.auth import Actor
from service.core.db import execute_standalone
from service.core.scope import applicants_readable_by as readable_by
from service.models import Applicant

applicants: Table = Applicant.__table__  # type: ignore[assignment]


class Existing(NamedTuple):
    """The columns the CSV import compares against."""

    id: str
    cnic: str
    full_name: str
    date_of_birth: date
    gender: str
    email: str
    phone: str
    district: str
    province: str
    education_level: str


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
    result = await execute_standalone(session, stmt, {"updated_by_key_id": None, **values})
    return result.first()


async def readable_by_cnic(session: AsyncSession, actor: Actor, cnic: str) -> Sequence[Applicant]:
    stmt = select(Applicant).where(Applicant.cnic == cnic, readable_by(actor))
    return (await session.scalars(stmt)).all()


async def existing_by_cnic(session: AsyncSession, cnics: Collection[str]) -> dict[str, Existing]:
    """One SELECT for a batch of CNICs."""
    if not cnics:
        return {}
    stmt = select(
        Applicant.id,
        Applicant.cnic,
        Applicant.full_name,
        Applicant.date_of_birth,
        Applicant.gender,
        Applicant.email,
        Applicant.phone,
        Applicant.district,
        Applicant.province,
        Applicant.education_level,
    ).where(Applicant.cnic.in_(list(cnics)))
    rows = (await session.execute(stmt)).all()
    return {row.cnic: Existing._make(row) for row in rows}


async def insert_many(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """One executemany INSERT (the driver batches it) for a batch of new applicants."""
    if rows:
        await session.execute(insert(applicants), list(rows))


_UPDATE_CONTACT = (
    update(applicants)
    .where(applicants.c.id == bindparam("b_id"))
    .values(
        email=bindparam("email"),
        phone=bindparam("phone"),
        district=bindparam("district"),
        province=bindparam("province"),
        education_level=bindparam("education_level"),
        updated_at=bindparam("updated_at"),
        updated_by_key_id=bindparam("updated_by_key_id"),
    )
)


async def update_contacts(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """UPDATE the contact fields of the changed applicants (``b_id`` names each row)."""
    if rows:
        await session.execute(_UPDATE_CONTACT, list(rows))
