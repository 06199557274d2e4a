"""`python -m service import applicants FILE.csv [--dry-run]` as an operator runs it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from service.core.db import Database
from service.models import Applicant
from tests.applicants.helpers import COLUMNS, csv_bytes, csv_row
from tests.test_cli import run_cli


async def applicants(url: str) -> list[Applicant]:
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as s:
            return list(await s.scalars(select(Applicant).order_by(Applicant.cnic)))
    finally:
        await db.dispose()


async def count(url: str) -> int:
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as s:
            return int(await s.scalar(select(func.count()).select_from(Applicant)) or 0)
    finally:
        await db.dispose()


async def test_cli_import_dry_run_then_real_then_again(
    fresh_database_url: str, tmp_path: Path
) -> None:
    rows = [
        csv_row(cnic="35202-1234567-1", full_name="عائشہ خان"),
        csv_row(cnic="3520276543211", consent="TRUE"),
        csv_row(phone="nope"),
    ]
    path = tmp_path / "applicants.csv"
    path.write_bytes(csv_bytes(rows, bom=True))

    dry = run_cli(fresh_database_url, "import", "applicants", str(path), "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert "dry run: would have created 2, updated 0, unchanged 0, errors 1" in dry.stdout
    assert "row 4: phone:" in dry.stdout
    assert await count(fresh_database_url) == 0

    real = run_cli(fresh_database_url, "import", "applicants", str(path))
    assert real.returncode == 1, real.stderr
    assert "created 2, updated 0, unchanged 0, errors 1" in real.stdout
    stored = await applicants(fresh_database_url)
    assert [a.cnic for a in stored] == ["35202-1234567-1", "35202-7654321-1"]
    assert stored[0].full_name == "عائشہ خان"
    assert all(a.created_by_key_id is None for a in stored)

    rows[1]["district"] = "Okara"
    path.write_bytes(csv_bytes(rows[:2]))
    again = run_cli(fresh_database_url, "import", "applicants", str(path), "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout.strip().splitlines()[-1])
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    assert report["errors"] == []


async def test_cli_refuses_a_bad_file(fresh_database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([csv_row()], columns=COLUMNS[:3]))
    result = run_cli(fresh_database_url, "import", "applicants", str(path))
    assert result.returncode == 2
    assert "lacks the columns" in result.stderr
    assert await count(fresh_database_url) == 0

    missing = run_cli(fresh_database_url, "import", "applicants", str(tmp_path / "none.csv"))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
