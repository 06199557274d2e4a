"""Verification (public, JSON and HTML), the staff read and revocation."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Certificate, Cohort, Enrollment
from tests.completions.helpers import CODE_RE, PROBLEM, events_of, in_progress_cohort
from tests.factories import (
    auth,
    make_applicant,
    make_certificate,
    make_enrollment,
    make_key,
)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
HTML = {"Accept": "text/html"}


async def issued(
    session: AsyncSession,
    *,
    code: str = "ZTE-7K3M-9QXA-2WPD-H4TR",
    full_name: str = "Ayesha Khan",
    centre_code: str = "isb-gitc",
) -> tuple[Cohort, Enrollment, Certificate]:
    cohort = await in_progress_cohort(session, centre_code=centre_code)
    person = await make_applicant(
        session,
        full_name=full_name,
        cnic="35202-9876543-1",
        email="ayesha@example.pk",
        phone="+923001234567",
    )
    enrollment = await make_enrollment(
        session, cohort, person, status="completed", score=87.5, attendance=93
    )
    return cohort, enrollment, await make_certificate(session, enrollment, code=code)


async def test_verification_answers_the_public_facts_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort, enrollment, cert = await issued(session)

    r = await client.get(f"/certificates/{cert.code}")

    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body == {
        "code": "ZTE-7K3M-9QXA-2WPD-H4TR",
        "holder_name": "Ayesha Khan",
        "programme": "zte-ict",
        "programme_name": "ZTE Global ICT Training Centre",
        "partner": "ZTE",
        "track": cohort.track,
        "cohort": cohort.code,
        "cohort_name": cohort.name,
        "completed_at": body["completed_at"],
        "issued_at": body["issued_at"],
    }
    assert body["completed_at"].startswith(enrollment.completed_at.date().isoformat())  # type: ignore[union-attr]
    for secret in ("35202", "9876543", "ayesha@", "+92300", "87.5", "score", "cnic", "phone"):
        assert secret not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "spelling",
    [
        "ZTE-7K3M-9QXA-2WPD-H4TR",
        "zte-7k3m-9qxa-2wpd-h4tr",
        "ZTE7K3M9QXA2WPDH4TR",
        "zte7k3m9qxa2wpdh4tr",
        "ZTE 7K3M 9QXA 2WPD H4TR",
        "zte-7K3m9QXA-2wpdH4TR",
    ],
)
async def test_every_spelling_verifies(
    client: httpx.AsyncClient, session: AsyncSession, spelling: str
) -> None:
    await issued(session)
    r = await client.get(f"/certificates/{spelling}")
    assert r.status_code == 200, spelling
    assert r.json()["code"] == "ZTE-7K3M-9QXA-2WPD-H4TR"


async def test_o_and_i_confusions_verify(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await issued(session, code="ALI-0011-1101-2345-6789")
    for spelling in ("ALI-OOII-LL01-2345-6789", "ali-o0il-1lo1-2345-6789", "alioo11ll0123456789"):
        r = await client.get(f"/certificates/{spelling}")
        assert r.status_code == 200, spelling
        assert r.json()["code"] == "ALI-0011-1101-2345-6789"


async def test_factory_codes_in_another_grouping_verify(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort = await in_progress_cohort(session)
    enrollment = await make_enrollment(session, cohort, status="completed")
    cert = await make_certificate(session, enrollment)  # e.g. ZTE-0A1B2C3D4E5F
    for spelling in (cert.code, cert.code.lower(), cert.code.replace("-", "")):
        r = await client.get(f"/certificates/{spelling}")
        assert r.status_code == 200, spelling
        assert r.json()["code"] == cert.code


@pytest.mark.parametrize(
    "code", ["ZTE-0000-0000-0000-0000", "nonsense", "%3Cscript%3E", "Z" * 300, "ZTE-UUUU-0000"]
)
async def test_unknown_or_malformed_code_is_404(
    client: httpx.AsyncClient, session: AsyncSession, code: str
) -> None:
    await issued(session)
    r = await client.get(f"/certificates/{code}")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["status"] == 404


async def test_html_page(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort, _, cert = await issued(session)

    for r in (
        await client.get(f"/certificates/{cert.code.lower()}", headers=HTML),
        await client.get(f"/certificates/{cert.code}.html"),
        await client.get(
            f"/certificates/{cert.code}",
            headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        ),
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        page = r.text
        assert "Ayesha Khan" in page
        assert "ZTE-7K3M-9QXA-2WPD-H4TR" in page
        assert "ZTE Global ICT Training Centre" in page
        assert cohort.code in page
        assert "@media print" in page
        assert "http://" not in page
        assert "https://" not in page
        assert "<script" not in page.lower()
        for secret in ("35202", "9876543", "ayesha@", "+92300", "87.5"):
            assert secret not in page


async def test_json_is_the_default_for_api_clients(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, _, cert = await issued(session)
    for accept in ("*/*", "application/json", "application/json, text/html;q=0.5"):
        r = await client.get(f"/certificates/{cert.code}", headers={"Accept": accept})
        assert r.headers["content-type"] == "application/json", accept


async def test_html_escapes_the_holder_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, _, cert = await issued(session, full_name='<script>alert("x")</script> & Co')
    r = await client.get(f"/certificates/{cert.code}", headers=HTML)
    assert r.status_code == 200
    assert "<script>" not in r.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in r.text
    # JSON carries the name as data, verbatim.
    assert (
        (await client.get(f"/certificates/{cert.code}"))
        .json()["holder_name"]
        .startswith("<script>")
    )


async def test_unknown_code_html_page_is_404(client: httpx.AsyncClient) -> None:
    for r in (
        await client.get("/certificates/ZTE-0000-0000-0000-0000", headers=HTML),
        await client.get("/certificates/whatever.html"),
    ):
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["content-security-policy"] == CSP
        assert "No certificate has this code" in r.text


# --- revocation -------------------------------------------------------------


async def revoke(
    client: httpx.AsyncClient, token: str | None, code: str, body: object
) -> httpx.Response:
    return await client.post(
        f"/api/v1/certificates/{code}/revoke", json=body, headers=auth(token) if token else {}
    )


async def test_revocation(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = await make_key(session, "admin")
    _, enrollment, cert = await issued(session)

    r = await revoke(client, admin, cert.code.lower(), {"reason": "Issued in error <b>"})

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code"] == cert.code
    assert body["enrollment_id"] == enrollment.id
    assert body["revoked_reason"] == "Issued in error <b>"
    assert body["revoked_at"] is not None
    assert body["issued_at"] is not None

    verify = await client.get(f"/certificates/{cert.code}")
    assert verify.status_code == 410
    assert verify.headers["content-type"] == PROBLEM
    problem = verify.json()
    assert problem["status"] == 410
    assert problem["reason"] == "Issued in error <b>"
    assert problem["revoked_at"] == body["revoked_at"]
    assert "Issued in error" in problem["detail"]
    assert "Ayesha" not in verify.text

    page = await client.get(f"/certificates/{cert.code}.html")
    assert page.status_code == 410
    assert page.headers["content-security-policy"] == CSP
    assert "revoked" in page.text
    assert "Issued in error &lt;b&gt;" in page.text
    assert body["revoked_at"][:10] in page.text
    assert "Ayesha" not in page.text

    again = await revoke(client, admin, cert.code, {"reason": "twice"})
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM

    events = await events_of(session, enrollment.id)
    assert [(e.from_status, e.to_status, e.reason) for e in events] == [
        ("completed", "completed", "certificate revoked: Issued in error <b>")
    ]
    await session.refresh(enrollment)
    assert enrollment.status == "completed"


async def test_revocation_roles_and_errors(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, _, cert = await issued(session)
    assert (await revoke(client, None, cert.code, {"reason": "x"})).status_code == 401
    for role in ("staff", "client", "reporter"):
        r = await revoke(client, await make_key(session, role), cert.code, {"reason": "x"})
        assert r.status_code == 403, role
    admin = await make_key(session, "admin")
    assert (
        await revoke(client, admin, "ZTE-0000-0000-0000-0000", {"reason": "x"})
    ).status_code == 404
    for body, field in (
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
    ):
        r = await revoke(client, admin, cert.code, body)
        assert r.status_code == 422, body
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert (await client.get(f"/certificates/{cert.code}")).status_code == 200
    assert (await revoke(client, admin, cert.code, {"reason": "x" * 500})).status_code == 200


async def test_staff_reads_the_full_record_in_scope(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, enrollment, cert = await issued(session, centre_code="isb-gitc")
    url = f"/api/v1/certificates/{cert.code.lower()}"
    assert (await client.get(url)).status_code == 401
    for role in ("client", "reporter"):
        assert (
            await client.get(url, headers=auth(await make_key(session, role)))
        ).status_code == 403
    online = await make_key(session, "staff", centres=["online"])
    assert (await client.get(url, headers=auth(online))).status_code == 404
    own = await make_key(session, "staff", centres=["isb-gitc"])
    r = await client.get(url, headers=auth(own))
    assert r.status_code == 200
    assert r.json() == {
        "code": cert.code,
        "enrollment_id": enrollment.id,
        "applicant_id": enrollment.applicant_id,
        "cohort_id": enrollment.cohort_id,
        "issued_at": r.json()["issued_at"],
        "revoked_at": None,
        "revoked_reason": None,
    }


async def test_issued_certificate_verifies_end_to_end(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_key(session, "staff")
    cohort = await in_progress_cohort(session, programme_code="alibaba-ecommerce")
    enrollment = await make_enrollment(session, cohort)
    done = await client.post(
        f"/api/v1/enrollments/{enrollment.id}/complete",
        json={"score": 64, "attendance": 80},
        headers=auth(token),
    )
    code = done.json()["certificate_code"]
    assert CODE_RE.match(code)
    r = await client.get(f"/certificates/{code.lower().replace('-', ' ')}")
    assert r.status_code == 200
    assert r.json()["programme"] == "alibaba-ecommerce"
    assert r.json()["partner"] == "Alibaba"
    assert r.json()["completed_at"] == done.json()["completed_at"]
