"""POST /api/v1/cohorts/{id}/completions: many results at once, JSON or CSV."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Certificate, Enrollment, EnrollmentEvent
from service.models.enums import EnrollmentStatus
from tests.completions.helpers import (
    CODE_RE,
    PROBLEM,
    enrolled,
    events_of,
    in_progress_cohort,
    many_enrolled,
)
from tests.factories import auth, make_cohort, make_enrollment, make_key


def url(cohort_id: str) -> str:
    return f"/api/v1/cohorts/{cohort_id}/completions"


async def status_of(session: AsyncSession, enrollment_id: str) -> str | None:
    return await session.scalar(select(Enrollment.status).where(Enrollment.id == enrollment_id))


async def test_mixed_rows_keep_the_good_and_report_the_bad(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff", centres=["isb-gitc"])
    cohort = await in_progress_cohort(session)
    other_cohort = await in_progress_cohort(session)
    passes = await enrolled(session, cohort)
    fails = await enrolled(session, cohort, cnic="35202-1234567-1")
    by_spaced_cnic = await enrolled(session, cohort, cnic="61101-7654321-9")
    waitlisted = await make_enrollment(session, cohort, status="waitlisted")
    foreign = await enrolled(session, other_cohort, cnic="42101-1111111-3")
    duplicate = await enrolled(session, cohort)
    untouched = await enrolled(session, cohort)

    rows: list[Any] = [
        {"enrollment_id": passes.id, "score": 50, "attendance": 75},  # 1 completed
        {"cnic": "3520212345671", "score": 49, "attendance": 99},  # 2 failed
        {"cnic": "61101 7654321 9", "score": 88.5, "attendance": 80},  # 3 completed
        {"enrollment_id": "no-such-enrollment", "score": 90, "attendance": 90},  # 4
        {"enrollment_id": foreign.id, "score": 90, "attendance": 90},  # 5 other cohort
        {"cnic": "42101-1111111-3", "score": 90, "attendance": 90},  # 6 not in cohort
        {"enrollment_id": waitlisted.id, "score": 90, "attendance": 90},  # 7 wrong state
        {"enrollment_id": untouched.id, "score": 101, "attendance": 90},  # 8 out of range
        {"enrollment_id": untouched.id, "score": "high", "attendance": 90},  # 9 not a number
        {"enrollment_id": untouched.id, "cnic": "3520212345671", "score": 1, "attendance": 1},
        {"score": 90, "attendance": 90},  # 11 neither id nor cnic
        {"enrollment_id": duplicate.id, "score": 90, "attendance": 90},  # 12 kept
        {"enrollment_id": duplicate.id, "score": 10, "attendance": 10},  # 13 duplicate
        "not an object",  # 14
        {"enrollment_id": 12345, "score": 90, "attendance": 90},  # 15 wrong type
        {"cnic": "123", "score": 90, "attendance": 90},  # 16 malformed CNIC
        {"enrollment_id": untouched.id, "score": True, "attendance": None},  # 17
    ]
    r = await client.post(url(cohort.id), json=rows, headers=auth(token))

    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["row"] for x in results] == list(range(1, len(rows) + 1))
    statuses = [x["status"] for x in results]
    assert statuses[:3] == ["completed", "failed", "completed"]
    assert statuses[3:11] == ["error"] * 8
    assert statuses[11:] == ["completed", "error", "error", "error", "error", "error"]

    assert results[0]["enrollment_id"] == passes.id
    assert CODE_RE.match(results[0]["certificate_code"])
    assert results[1] == {
        "row": 2,
        "status": "failed",
        "enrollment_id": fails.id,
        "certificate_code": None,
        "error": None,
    }
    assert results[2]["enrollment_id"] == by_spaced_cnic.id
    errors = {x["row"]: x["error"] for x in results if x["status"] == "error"}
    assert "no enrollment with this id in this cohort" in errors[4]
    assert "no enrollment with this id in this cohort" in errors[5]
    assert "no enrollment in this cohort for this CNIC" in errors[6]
    assert "waitlisted" in errors[7]
    assert results[6]["enrollment_id"] == waitlisted.id
    assert "score must be between 0 and 100" in errors[8]
    assert "score must be a number" in errors[9]
    assert "not both" in errors[10]
    assert "enrollment_id or cnic is required" in errors[11]
    assert "row 12" in errors[13]
    assert results[12]["enrollment_id"] == duplicate.id
    assert "object" in errors[14]
    assert "enrollment_id must be a string" in errors[15]
    assert "cnic must be 13 digits" in errors[16]
    assert "score must be a number" in errors[17]
    # attendance may be left out (a cohort with sessions computes it): only the score errs.
    assert "attendance" not in errors[17]
    for x in results:
        if x["status"] == "error":
            assert x["certificate_code"] is None

    assert await status_of(session, passes.id) == "completed"
    assert await status_of(session, fails.id) == "failed"
    assert await status_of(session, duplicate.id) == "completed"
    assert await status_of(session, untouched.id) == "enrolled"
    assert await status_of(session, waitlisted.id) == "waitlisted"
    assert await status_of(session, foreign.id) == "enrolled"
    await session.refresh(duplicate)
    assert (duplicate.score, duplicate.attendance) == (90, 90)  # the first row wins

    codes = await session.scalars(
        select(Certificate.code).where(
            Certificate.enrollment_id.in_([passes.id, by_spaced_cnic.id, duplicate.id])
        )
    )
    assert set(codes) == {
        results[0]["certificate_code"],
        results[2]["certificate_code"],
        results[11]["certificate_code"],
    }
    events = await events_of(session, fails.id)
    assert [(e.from_status, e.to_status, e.reason) for e in events] == [
        ("enrolled", "failed", "score 49, attendance 99")
    ]
    assert await events_of(session, untouched.id) == []


async def test_cnic_picks_the_enrolled_enrollment(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """An applicant who withdrew and enrolled again: the live enrollment is the one."""
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    old = await enrolled(session, cohort, cnic="35202-0000001-1")
    old.status = EnrollmentStatus.withdrawn
    await session.flush()
    from service.models import Applicant

    person = await session.get(Applicant, old.applicant_id)
    current = await make_enrollment(session, cohort, person)

    r = await client.post(
        url(cohort.id),
        json=[{"cnic": "35202-0000001-1", "score": 80, "attendance": 80}],
        headers=auth(token),
    )
    assert r.json()["results"][0]["enrollment_id"] == current.id
    assert r.json()["results"][0]["status"] == "completed"


CSV_BODY = (
    "\ufeffenrollment_id,cnic,score,attendance\n"
    "{passes},,90,95\n"
    "\n"
    ",35202-1234567-1,40,80\n"
    "{passes},,70,70\n"
    ",,50,50\n"
    "{other},,abc,80\n"
)


@pytest.mark.parametrize("suffix", ["", "/import"])
async def test_csv_upload_reports_file_line_numbers(
    client: httpx.AsyncClient, session: AsyncSession, suffix: str
) -> None:
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    passes = await enrolled(session, cohort)
    fails = await enrolled(session, cohort, cnic="35202-1234567-1")
    other = await enrolled(session, cohort)
    data = CSV_BODY.format(passes=passes.id, other=other.id).encode()

    r = await client.post(
        url(cohort.id) + suffix,
        files={"file": ("results.csv", data, "text/csv")},
        headers=auth(token),
    )

    assert r.status_code == 200, r.text
    results = r.json()["results"]
    # Line 1 is the header, line 3 is blank (skipped).
    assert [(x["row"], x["status"]) for x in results] == [
        (2, "completed"),
        (4, "failed"),
        (5, "error"),
        (6, "error"),
        (7, "error"),
    ]
    assert results[1]["enrollment_id"] == fails.id
    assert "row 2" in results[2]["error"]
    assert "enrollment_id or cnic is required" in results[3]["error"]
    assert "score must be a number" in results[4]["error"]
    assert await status_of(session, other.id) == "enrolled"


async def test_csv_with_cnic_only_columns_as_text_body(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    a = await enrolled(session, cohort, cnic="35202-7777777-1")
    body = "CNIC, Score, Attendance, name\r\n3520277777771,75,75,Ayesha\r\n"
    r = await client.post(
        url(cohort.id),
        content=body.encode(),
        headers={**auth(token), "content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["results"] == [
        {
            "row": 2,
            "status": "completed",
            "enrollment_id": a.id,
            "certificate_code": r.json()["results"][0]["certificate_code"],
            "error": None,
        }
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        # attendance may be left out (computed from sessions); score may not.
        (b"enrollment_id,attendance\nx,1\n", "score"),
        (b"score,attendance\n1,2\n", "enrollment_id or cnic"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        (b"cnic,cnic,score,attendance\n", "twice"),
        # The applicant importer's cap: a header this wide is not a completion file.
        (",".join(f"c{i}" for i in range(1001)).encode() + b"\n", "at most 1000"),
    ],
)
@pytest.mark.parametrize("suffix", ["", "/import"])
async def test_bad_csv_file_is_422_naming_file(
    client: httpx.AsyncClient, session: AsyncSession, data: bytes, message: str, suffix: str
) -> None:
    """The same rules for a multipart upload to the JSON path and to the CSV-only path."""
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    r = await client.post(
        url(cohort.id) + suffix,
        files={"file": ("r.csv", data, "text/csv")},
        headers=auth(token),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    [error] = r.json()["errors"]
    assert error["field"] == "file"
    assert message in error["message"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"no boundary given"),
        (
            "multipart/form-data; boundary=X",
            b'--X\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n'
            b"Bad\rHeader: x\r\n\r\nscore\r\n--X--\r\n",
        ),
    ],
)
async def test_a_broken_multipart_stream_is_422_on_body(
    client: httpx.AsyncClient, session: AsyncSession, content_type: str, body: bytes
) -> None:
    """Found by `make fuzz`: Starlette's 400 for a broken stream was undocumented here."""
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    r = await client.post(
        url(cohort.id), content=body, headers={**auth(token), "content-type": content_type}
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["errors"] == [
        {"field": "body", "message": "The body cannot be decoded.", "code": "body.undecodable"}
    ]


async def test_multipart_without_file_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    r = await client.post(url(cohort.id), data={"other": "x"}, headers=auth(token))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "file"


@pytest.mark.parametrize(
    "content", [b'{"enrollment_id": "x", "score": 1, "attendance": 1}', b"[{", b"42", b""]
)
async def test_body_not_a_json_array_is_422_naming_body(
    client: httpx.AsyncClient, session: AsyncSession, content: bytes
) -> None:
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    r = await client.post(
        url(cohort.id),
        content=content,
        headers={**auth(token), "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert [e["field"] for e in r.json()["errors"]] == ["body"]


async def test_empty_array_is_no_results(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    r = await client.post(url(cohort.id), json=[], headers=auth(token))
    assert r.status_code == 200
    assert r.json() == {"results": []}


async def test_more_than_5000_rows_is_413(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    rows = [{"cnic": "3520212345671", "score": 1, "attendance": 1}] * 5001
    r = await client.post(url(cohort.id), json=rows, headers=auth(token))
    assert r.status_code == 413
    assert "5000" in r.json()["detail"]
    csv_rows = "cnic,score,attendance\n" + "3520212345671,1,1\n" * 5001
    r = await client.post(
        url(cohort.id),
        files={"file": ("r.csv", csv_rows.encode(), "text/csv")},
        headers=auth(token),
    )
    assert r.status_code == 413


async def test_a_5000_row_batch(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session, capacity=6000)
    people = await many_enrolled(session, cohort, 5000)
    rows: list[dict[str, Any]] = []
    for i, (enrollment_id, cnic) in enumerate(people):
        ref = {"enrollment_id": enrollment_id} if i % 2 else {"cnic": cnic.replace("-", "")}
        rows.append({**ref, "score": 40 + i % 20, "attendance": 80})

    r = await client.post(url(cohort.id), json=rows, headers=auth(token))

    assert r.status_code == 200, r.text[:500]
    results = r.json()["results"]
    assert len(results) == 5000
    assert [x["enrollment_id"] for x in results] == [p[0] for p in people]
    completed = [x for x in results if x["status"] == "completed"]
    assert len(completed) == 2500  # scores 50..59 pass, 40..49 fail
    assert all(x["status"] == "failed" for x in results if x not in completed)
    codes = {x["certificate_code"] for x in completed}
    assert len(codes) == 2500
    assert all(CODE_RE.match(c) for c in codes)
    ids = [p[0] for p in people]
    counts = dict(
        (
            await session.execute(
                select(Enrollment.status, func.count())
                .where(Enrollment.id.in_(ids))
                .group_by(Enrollment.status)
            )
        ).all()
    )
    assert counts == {"completed": 2500, "failed": 2500}
    assert (
        await session.scalar(
            select(func.count())
            .select_from(EnrollmentEvent)
            .where(EnrollmentEvent.enrollment_id.in_(ids))
        )
        == 5000
    )


@pytest.mark.parametrize("cohort_status", ["open", "completed", "cancelled"])
async def test_cohort_not_in_progress_is_409(
    client: httpx.AsyncClient, session: AsyncSession, cohort_status: str
) -> None:
    token = await make_key(session, "admin")
    cohort = await make_cohort(session, status=cohort_status)
    e = await make_enrollment(session, cohort)
    r = await client.post(
        url(cohort.id),
        json=[{"enrollment_id": e.id, "score": 90, "attendance": 90}],
        headers=auth(token),
    )
    assert r.status_code == 409
    assert r.json()["cohort_status"] == cohort_status
    assert await status_of(session, e.id) == "enrolled"


async def test_roles_and_scope(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort = await in_progress_cohort(session, centre_code="isb-gitc")
    e = await enrolled(session, cohort)
    rows = [{"enrollment_id": e.id, "score": 90, "attendance": 90}]

    r = await client.post(url(cohort.id), json=rows)
    assert r.status_code == 401
    for role in ("client", "reporter"):
        r = await client.post(
            url(cohort.id), json=rows, headers=auth(await make_key(session, role))
        )
        assert r.status_code == 403, role
    online = await make_key(session, "staff", centres=["online"])
    r = await client.post(url(cohort.id), json=rows, headers=auth(online))
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM
    r = await client.post(url("no-such-cohort"), json=rows, headers=auth(online))
    assert r.status_code == 404
    assert await status_of(session, e.id) == "enrolled"

    own = await make_key(session, "staff", centres=["isb-gitc"])
    r = await client.post(url(cohort.id), json=rows, headers=auth(own))
    assert r.status_code == 200
    assert r.json()["results"][0]["status"] == "completed"


async def test_json_body_over_the_byte_limit_is_413(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "admin")
    cohort = await in_progress_cohort(session)
    content = b"[" + b" " * 1_100_000 + b"]"
    r = await client.post(
        url(cohort.id), content=content, headers={**auth(token), "content-type": "application/json"}
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("path", ["/api/v1/cohorts/x/completions", "/api/v1/sessions/x/attendance"])
@pytest.mark.parametrize("token", [None, "enr_not-a-key"])
async def test_a_body_is_read_only_after_the_key_is_checked(
    client: httpx.AsyncClient, path: str, token: str | None
) -> None:
    """A stranger's bulk body is never parsed: 401 whatever it holds, not a 422 about it."""
    headers = {"Content-Type": "application/json", **(auth(token) if token else {})}
    method = "PUT" if path.endswith("/attendance") else "POST"
    r = await client.request(method, path, content=b"[not json", headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
