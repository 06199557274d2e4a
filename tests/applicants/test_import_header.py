"""The import's header row: wide headers are refused at once, parsing stays off the event loop."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants import importer
from service.applicants.importer import MAX_COLUMNS
from service.models import Applicant
from tests.applicants.helpers import COLUMNS, csv_bytes, csv_row, upload
from tests.factories import make_key


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Applicant)) or 0)


def wide_file(extra: list[str], row_extra: str = "") -> bytes:
    """The registration columns plus ``extra`` ignored ones, and one good row."""
    row = csv_row()
    header = ",".join([*COLUMNS, *extra])
    line = ",".join(str(row[c]) for c in COLUMNS) + row_extra
    return f"{header}\n{line}\n".encode()


@pytest.mark.parametrize("width", [MAX_COLUMNS + 1, 40_000])
async def test_a_header_wider_than_the_cap_is_a_422_naming_file(
    client: httpx.AsyncClient, session: AsyncSession, width: int
) -> None:
    token = await make_key(session, "staff")
    # 40,000 columns once blocked the event loop for 17 s (a quadratic duplicate check).
    extra = [f"note{i}" for i in range(width - len(COLUMNS))]
    r = await upload(client, token, wide_file(extra))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == [
        {
            "field": "file",
            "message": f"The header row has {width} columns; at most {MAX_COLUMNS} are allowed.",
            "code": "file.too_many_columns",
        }
    ]
    assert await count(session) == 0


async def test_a_header_at_the_cap_is_imported(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    extra = [f"note{i}" for i in range(MAX_COLUMNS - len(COLUMNS))]
    r = await upload(client, token, wide_file(extra, "," * len(extra)))
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["errors"]) == (1, [])
    assert await count(session) == 1


async def test_every_repeated_column_is_named_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    extra = [f"note{i}" for i in range(900)] + ["NOTE7", " note7", "phone", "x", "", ""]
    r = await upload(client, token, wide_file(extra))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "file",
            "message": "Columns named more than once: note7, phone.",
            "code": "file.duplicate_columns",
        }
    ]


async def test_rows_are_parsed_and_validated_off_the_event_loop(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await make_key(session, "staff")
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    parse_row = importer._parse_row

    def spy(*args: Any) -> Any:
        threads.add(threading.get_ident())
        return parse_row(*args)

    monkeypatch.setattr(importer, "_parse_row", spy)
    r = await upload(client, token, csv_bytes([csv_row() for _ in range(30)]))
    assert r.json()["created"] == 30
    assert threads
    assert loop_thread not in threads
