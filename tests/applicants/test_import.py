"""POST /api/v1/applicants/import: CSV upload, dry runs, updates, row errors, bad files."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.importer import BATCH_SIZE
from service.models import Applicant
from tests.applicants.helpers import COLUMNS, csv_bytes, csv_row, upload
from tests.factories import auth, make_applicant, make_key


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Applicant)) or 0)


async def by_cnic(session: AsyncSession, cnic: str) -> Applicant:
    found = await session.scalar(
        select(Applicant).where(Applicant.cnic == cnic).execution_options(populate_existing=True)
    )
    assert found is not None
    return found


def report(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_import_creates_rows_and_reupload_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    rows = [
        csv_row(cnic="35202-1234567-1", phone="0300 1234567", email="A@Example.PK"),
        csv_row(cnic="3520276543211", full_name="عائشہ خان", consent="TRUE"),
        csv_row(consent="True"),
    ]
    data = csv_bytes(rows)
    first = report(await upload(client, token, data))
    assert first == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
        "errors_truncated": False,
        "dry_run": False,
    }
    stored = await by_cnic(session, "35202-1234567-1")
    assert (stored.phone, stored.email) == ("+923001234567", "a@example.pk")
    assert stored.created_by_key_id is not None
    assert stored.consent_at is not None
    assert (await by_cnic(session, "35202-7654321-1")).full_name == "عائشہ خان"

    second = report(await upload(client, token, data))
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 3)
    assert await count(session) == 3


async def test_dry_run_counts_without_writing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    existing = await make_applicant(session, district="Lahore", phone="+923001234567")
    token = await make_key(session, "admin")
    rows = [
        csv_row(),
        csv_row(),
        csv_row(
            cnic=existing.cnic,
            phone=existing.phone,
            district="Multan",
            email=existing.email,
        ),
        csv_row(phone="nope"),
    ]
    body = report(await upload(client, token, csv_bytes(rows), dry_run=True))
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 1, 0)
    assert body["dry_run"] is True
    assert body["errors"] == [
        {
            "row": 5,
            "field": "phone",
            "message": "Give a Pakistani mobile number, e.g. 03001234567 or +92 300 1234567 "
            "(stored +923001234567).",
        }
    ]
    assert await count(session) == 1
    assert (await by_cnic(session, existing.cnic)).district == "Lahore"


async def test_bad_rows_reported_with_line_numbers_good_rows_kept(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    rows = [
        csv_row(),  # line 2
        csv_row(cnic="123", email="bad"),  # line 3
        csv_row(),  # line 4
        csv_row(consent="false"),  # line 5
        csv_row(date_of_birth="2002-02-30", gender="x"),  # line 6
    ]
    body = report(await upload(client, token, csv_bytes(rows)))
    assert body["created"] == 2
    errors = [(e["row"], e["field"]) for e in body["errors"]]  # type: ignore[attr-defined]
    assert errors == [
        (3, "cnic"),
        (3, "email"),
        (5, "consent"),
        (6, "date_of_birth"),
        (6, "gender"),
    ]
    assert await count(session) == 2


async def test_row_numbers_count_blank_and_multiline_lines(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    good = csv_row()
    bad = csv_row(phone="x")
    header = ",".join(COLUMNS)

    def line(r: dict[str, str]) -> str:
        return ",".join(f'"{r[c]}"' for c in COLUMNS)

    multiline = dict(good, district="Line one\nline two", cnic="1111111111111")
    text = "\n".join([header, line(good), "", line(multiline), line(bad), ""])
    body = report(await upload(client, token, text.encode()))
    # Line 2 good, 3 blank, 4-5 one row over two lines (district with a newline
    # is a control character), 6 bad phone.
    assert [(e["row"], e["field"]) for e in body["errors"]] == [  # type: ignore[attr-defined]
        (4, "district"),
        (6, "phone"),
    ]
    assert body["created"] == 1


async def test_existing_cnic_with_new_contacts_is_updated(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    existing = await make_applicant(
        session, cnic="35202-1234567-1", district="Lahore", email="old@example.pk"
    )
    token = await make_key(session, "staff")
    row = csv_row(
        cnic="3520212345671",
        full_name=existing.full_name,
        date_of_birth=existing.date_of_birth.isoformat(),
        email="New@Example.pk",
        phone="+92 321 7654321",
        district="Multan",
        province="punjab",
        education_level="master",
    )
    body = report(await upload(client, token, csv_bytes([row])))
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 0)
    stored = await by_cnic(session, "35202-1234567-1")
    assert (stored.email, stored.phone, stored.district, stored.education_level) == (
        "new@example.pk",
        "+923217654321",
        "Multan",
        "master",
    )
    assert stored.updated_by_key_id is not None
    again = report(await upload(client, token, csv_bytes([row])))
    assert (again["updated"], again["unchanged"]) == (0, 1)


async def test_name_or_birth_date_mismatch_is_a_row_error(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    existing = await make_applicant(
        session, full_name="Ayesha Khan", district="Lahore", phone="+923001234567"
    )
    token = await make_key(session, "staff")
    rows = [
        csv_row(cnic=existing.cnic, full_name="Fatima Ali", district="Multan"),
        csv_row(cnic=existing.cnic, date_of_birth="2001-01-01", district="Multan"),
        csv_row(cnic=existing.cnic, full_name="  ayesha   KHAN ", phone=existing.phone),
    ]
    body = report(await upload(client, token, csv_bytes(rows)))
    assert body["errors"] == [
        {
            "row": 2,
            "field": "full_name",
            "message": "Differs from the name registered with this CNIC.",
        },
        {
            "row": 3,
            "field": "date_of_birth",
            "message": "Differs from the date of birth registered with this CNIC.",
        },
    ]
    # Case and spacing in the name do not count as a difference.
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 1)
    assert (await by_cnic(session, existing.cnic)).district == "Lahore"


async def test_cnic_twice_in_one_file_is_compared_with_the_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    first = csv_row(cnic="4210112345671", district="Multan")
    same = dict(first, cnic="42101-1234567-1")
    moved = dict(first, district="Kasur")
    renamed = dict(first, full_name="Somebody Else")
    body = report(await upload(client, token, csv_bytes([first, same, moved, renamed])))
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 1)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(5, "full_name")]  # type: ignore[attr-defined]
    assert (await by_cnic(session, "42101-1234567-1")).district == "Kasur"
    assert await count(session) == 1


async def test_duplicates_across_batches(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "staff")
    rows = [csv_row() for _ in range(BATCH_SIZE + 5)]
    rows.append(dict(rows[0], district="Sialkot"))  # same CNIC, a later batch
    body = report(await upload(client, token, csv_bytes(rows), dry_run=True))
    assert (body["created"], body["updated"], body["unchanged"]) == (BATCH_SIZE + 5, 1, 0)
    assert await count(session) == 0
    body = report(await upload(client, token, csv_bytes(rows)))
    assert (body["created"], body["updated"], body["unchanged"]) == (BATCH_SIZE + 5, 1, 0)
    assert await count(session) == BATCH_SIZE + 5
    assert (await by_cnic(session, str(rows[0]["cnic"]))).district == "Sialkot"


async def test_bom_and_header_spelling(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "staff")
    data = csv_bytes([csv_row(), csv_row()], bom=True)
    body = report(await upload(client, token, data))
    assert body["created"] == 2
    # Header names are matched ignoring case and spaces; extra columns are ignored.
    header = ",".join([" CNIC", *COLUMNS[1:], "notes"]).encode()
    row = csv_row()
    line = ",".join([*(row[c] for c in COLUMNS), "called twice"]).encode()
    body = report(await upload(client, token, header + b"\r\n" + line + b"\r\n"))
    assert body["created"] == 1


async def test_row_with_too_many_values(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "staff")
    row = csv_row()
    data = csv_bytes([]) + (",".join(row[c] for c in COLUMNS) + ",extra\n").encode()
    body = report(await upload(client, token, data))
    assert body["errors"] == [
        {"row": 2, "field": "row", "message": "The row has 11 values; the header has 10."}
    ]


async def test_short_row_names_each_missing_value(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    row = csv_row()
    data = csv_bytes([]) + (",".join(row[c] for c in COLUMNS[:8]) + "\n").encode()
    body = report(await upload(client, token, data))
    assert [(e["row"], e["field"]) for e in body["errors"]] == [  # type: ignore[attr-defined]
        (2, "education_level"),
        (2, "consent"),
    ]


@pytest.mark.parametrize(
    ("data", "status", "detail"),
    [
        (b"\xff\xfe" + "cnic,full_name\n".encode("utf-16-le"), 400, "not UTF-8"),
        (b"cnic,full_name\x00,phone\n", 400, "not a readable CSV"),
        (b"", 422, "empty"),
        (b"\n\n", 422, "empty"),
        (b"cnic,full_name,phone\n1,2,3\n", 422, "lacks the columns"),
        (b"cnic,cnic,full_name\n", 422, "more than once"),
    ],
)
async def test_bad_files_are_refused_and_write_nothing(
    client: httpx.AsyncClient, session: AsyncSession, data: bytes, status: int, detail: str
) -> None:
    token = await make_key(session, "staff")
    r = await upload(client, token, data)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    text = problem["detail"] + " ".join(e["message"] for e in problem.get("errors", []))
    assert detail in text
    assert await count(session) == 0


async def test_missing_columns_are_named(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "staff")
    r = await upload(client, token, csv_bytes([csv_row()], columns=COLUMNS[:-2]))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "file",
            "message": "The header row lacks the columns: education_level, consent.",
            "code": "file.missing_columns",
        }
    ]


async def test_invalid_utf8_late_in_file_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    good = csv_bytes([csv_row() for _ in range(BATCH_SIZE + 10)])
    r = await upload(client, token, good + b"\xc3\x28,bad\n")
    assert r.status_code == 400
    assert "UTF-8" in r.json()["detail"]
    assert await count(session) == 0


async def test_import_roles_and_missing_file(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    data = csv_bytes([csv_row()])
    for role in ("client", "reporter"):
        token = await make_key(session, role)
        r = await upload(client, token, data)
        assert r.status_code == 403, role
    anon = await client.post(
        "/api/v1/applicants/import", files={"file": ("a.csv", data, "text/csv")}
    )
    assert anon.status_code == 401
    staff = await make_key(session, "staff", centres=["isb-gitc"])
    r = await client.post("/api/v1/applicants/import", data={"x": "1"}, headers=auth(staff))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "file"
    assert await count(session) == 0


async def test_three_batches_overlapping_writes_keep_file_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Batches are written while the next is parsed; the result must be as if one
    after another: a CNIC updated in batch 3 ends with batch 3's values, errors in
    every batch are reported by their line numbers."""
    token = await make_key(session, "staff")
    rows = [csv_row() for _ in range(2 * BATCH_SIZE + 5)]
    rows[BATCH_SIZE + 3] = dict(rows[BATCH_SIZE + 3], phone="not a phone")
    rows.append(dict(rows[1], district="Sialkot"))  # updates a row of batch 1
    rows.append(dict(rows[BATCH_SIZE + 10], email="later@example.pk"))  # and one of batch 2
    body = report(await upload(client, token, csv_bytes(rows)))
    assert (body["created"], body["updated"], body["unchanged"]) == (2 * BATCH_SIZE + 4, 2, 0)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(BATCH_SIZE + 5, "phone")]  # type: ignore[attr-defined]
    assert await count(session) == 2 * BATCH_SIZE + 4
    assert (await by_cnic(session, str(rows[1]["cnic"]))).district == "Sialkot"
    assert (await by_cnic(session, str(rows[BATCH_SIZE + 10]["cnic"]))).email == "later@example.pk"
