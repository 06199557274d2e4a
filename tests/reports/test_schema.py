"""The reports migration: triggers exist on both databases, and downgrade removes them."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service.core.db import create_engine
from tests.conftest import downgrade, migrate

PG_TRIGGERS = {
    "report_enrollments_ins",
    "report_enrollments_upd",
    "report_enrollments_del",
    "report_certificates_ins",
    "report_certificates_upd",
    "report_certificates_del",
    "report_target_programmes_chg",
    # 0003: the breakdown counts (PostgreSQL only).
    "report_cube_enrollments_ins",
    "report_cube_enrollments_upd",
    "report_cube_enrollments_del",
    "report_cube_certificates_ins",
    "report_cube_certificates_upd",
    "report_cube_certificates_del",
    "report_cube_applicants_upd",
    "report_cube_cohorts_upd",
    # 0009: the outcome counts (PostgreSQL only).
    "report_outcome_outcomes_ins",
    "report_outcome_outcomes_upd",
    "report_outcome_outcomes_del",
    "report_outcome_enrollments_upd",
    "report_outcome_certificates_ins",
    "report_outcome_certificates_upd",
    "report_outcome_certificates_del",
    "report_outcome_applicants_upd",
    "report_outcome_cohorts_upd",
}
SQLITE_TRIGGERS = {
    t for t in PG_TRIGGERS if not t.startswith(("report_cube_", "report_outcome_"))
} - {"report_target_programmes_chg"} | {
    "report_certificates_feed_ins",
    "report_certificates_feed_revoke",
    "report_certificates_feed_unrevoke",
    "report_target_programmes_ins",
    "report_target_programmes_upd",
    "report_target_programmes_del",
}


async def _triggers(conn: AsyncSession | AsyncConnection, dialect: str) -> set[str]:
    sql = (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'report_%'"
        if dialect == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'report_%'"
    )
    rows = await conn.execute(text(sql))
    return {r[0] for r in rows}


async def test_triggers_exist(session: AsyncSession) -> None:
    dialect = session.get_bind().dialect.name
    expected = PG_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS
    assert await _triggers(session, dialect) == expected


async def test_downgrade_removes_reports_and_upgrade_restores(fresh_database_url: str) -> None:
    url = fresh_database_url
    await asyncio.to_thread(downgrade, url, "0001_initial")
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            dialect = conn.dialect.name
            assert await _triggers(conn, dialect) == set()
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert not [t for t in tables if t.startswith("report_")]
        await asyncio.to_thread(migrate, url, "head")
        async with engine.connect() as conn:
            assert await _triggers(conn, dialect) == (
                PG_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS
            )
            # The backfill rebuilt the seeded target's (empty) counters and the feed counter.
            assert (await conn.execute(text("SELECT last FROM report_feed_counter"))).scalar() == 0
    finally:
        await engine.dispose()
