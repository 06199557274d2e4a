"""What the signed-in page and the public page show, checked against the report API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.dashboard.config import DashboardSettings
from service.dashboard.service import weekly
from tests.dashboard.helpers import number, parse, sign_in
from tests.factories import auth, centre, make_applicant, make_cohort, make_enrollment, make_key
from tests.reports.fixtures import add_target, build_world


async def _api(client: httpx.AsyncClient, token: str, path: str) -> Any:
    r = await client.get(path, headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()


async def test_reporter_page_matches_the_report_api(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    await add_target(
        session,
        "zte-small",
        metric="trainees",
        goal=10,
        programmes=["zte-ict"],
        deadline=world.today + timedelta(days=2),
    )
    await make_cohort(session, code="soon-isb", start_date=world.today + timedelta(days=3))
    token = await make_key(session, "reporter")
    progress = await _api(client, token, "/api/v1/reports/progress")
    assert (await sign_in(client, token)).status_code == 303
    r = await client.get("/dashboard")
    assert r.status_code == 200
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    html = r.text
    assert "<script" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        "http://www.w3.org/1999/xlink", ""
    ).replace("http://pygal.org", "").replace("http://github.com/Kozea/pygal", "")
    page = parse(html)
    for i, target in enumerate(progress["targets"]):
        data = page.data[f"target-{target['code']}"]
        assert int(data["data-achieved"]) == target["achieved"]
        assert int(data["data-goal"]) == target["goal"]
        assert float(data["data-percent"]) == target["percent"]
        assert number(page.by_class["achieved"][i]) == target["achieved"]
        assert page.by_class["daily-rate"][i] == f"{target['daily_rate']:.2f}"
        assert page.by_class["percent"][i] == str(target["percent"])
        assert number(page.by_class["in-training"][i]) == target["in_training"]
        assert number(page.by_class["waitlisted"][i]) == target["waitlisted"]
    # zte-small: 2 of 10 trainees, 1 in the last 30 days, 8 needed in 2 days: behind.
    small = next(t for t in progress["targets"] if t["code"] == "zte-small")
    assert small["required_daily_rate"] == 4.0
    assert page.by_class["required-rate"][0].startswith("4.00")
    assert "behind: the current rate falls short" in html
    # Breakdowns: the same rows as the API, "<5" for the reporter.
    for dimension in ("province", "gender", "age_band"):
        api = await _api(
            client, token, f"/api/v1/reports/breakdown?dimension={dimension}&metric=trainees"
        )
        assert f'id="breakdown-{dimension}"' in html
        for row in api["rows"]:
            cell = "&lt;5" if row["count"] == "<5" else f"{row['count']:,}"
            assert f'<th scope="row">{row["key"]}</th><td class="num">{cell}</td>' in html
    assert "&lt;5" in html
    # No cohort panel, no cohort codes, no names, no CNICs for a reporter.
    assert 'id="cohort-panel"' not in html
    assert "soon-isb" not in html
    assert "zte-isb-1" not in html
    assert world.people["A"].full_name not in html
    assert world.people["A"].cnic not in html


async def test_weekly_series_ends_at_achieved(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await build_world(session)
    token = await make_key(session, "admin")
    progress = await _api(client, token, "/api/v1/reports/progress")
    zte = next(t for t in progress["targets"] if t["code"] == "zte-100k")
    await sign_in(client, token)
    html = (await client.get("/dashboard")).text
    section = html.split('id="cumulative-zte-100k"', 1)[1].split("</figure>", 1)[0]
    rows = [r for r in section.split("<tr>") if r.startswith('<th scope="row">')]
    assert len(rows) >= 6  # from B's completion 40 days ago to this week
    last = rows[-1].split('<td class="num">')
    assert number(last[2].split("<", 1)[0]) == zte["achieved"] == 2
    assert "<svg" in section
    assert 'role="img"' in section
    assert "<title" in section


async def test_staff_see_cohorts_of_their_centres(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    today = date.today()
    isb = await make_cohort(session, code="soon-isb", capacity=3, start_date=today + timedelta(5))
    for _ in range(3):
        await make_enrollment(session, isb)
    await make_enrollment(session, isb, status="waitlisted")
    await make_enrollment(session, isb, status="waitlisted")
    await make_cohort(session, code="soon-lhr", centre_code="lhr", start_date=today + timedelta(9))
    await make_cohort(session, code="later-isb", start_date=today + timedelta(45))
    await make_cohort(session, code="past-isb", start_date=today - timedelta(1))
    await make_cohort(session, code="started-isb", status="in_progress", start_date=today)
    lhr = await centre(session, "lhr")

    await sign_in(client, await make_key(session, "staff", centres=["isb-gitc"]))
    html = (await client.get("/dashboard")).text
    assert 'id="cohort-panel"' in html
    assert 'data-cohort="soon-isb"' in html
    row = html.split('data-cohort="soon-isb"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num seats-available full">0</td>' in row
    assert '<td class="num waitlist">2</td>' in row
    for hidden in ("soon-lhr", "later-isb", "past-isb", "started-isb"):
        assert f'data-cohort="{hidden}"' not in html
    assert "Showing the centres this key is scoped to." in html

    client.cookies.clear()
    await sign_in(client, await make_key(session, "admin"))
    html = (await client.get("/dashboard")).text
    assert 'data-cohort="soon-isb"' in html
    assert 'data-cohort="soon-lhr"' in html
    assert f'data-centre="{lhr.code}"' in html

    client.cookies.clear()
    await sign_in(client, await make_key(session, "staff", centres=["lhr"]))
    html = (await client.get("/dashboard")).text
    assert 'data-cohort="soon-lhr"' in html
    assert 'data-cohort="soon-isb"' not in html


async def test_staff_see_offers_pending_and_expiring_soon(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    soon = date.today() + timedelta(5)
    cohort = await make_cohort(
        session, code="offers-isb", capacity=4, start_date=soon, waitlist_mode="offer"
    )
    now = datetime.now(UTC)
    for hours in (2, 20, 40):  # pending; the first two expire within 24 h
        await make_enrollment(
            session, cohort, status="offered", offer_expires_at=now + timedelta(hours=hours)
        )
    # Expired a minute ago, not yet materialised: neither pending nor a held seat.
    await make_enrollment(
        session, cohort, status="offered", offer_expires_at=now - timedelta(minutes=1)
    )
    await sign_in(client, await make_key(session, "staff", centres=["isb-gitc"]))
    html = (await client.get("/dashboard")).text
    row = html.split('data-cohort="offers-isb"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num offers-pending">3</td>' in row
    assert '<td class="num offers-expiring">2</td>' in row
    assert '<td class="num seats-available">1</td>' in row


async def test_cohorts_in_progress_show_while_they_have_offers_pending(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A no-show after the start offers a seat too: the panel lists that cohort,
    whatever its start date, for as long as an offer is pending."""
    started = date.today() - timedelta(10)
    cohort = await make_cohort(
        session,
        code="running-isb",
        status="in_progress",
        start_date=started,
        waitlist_mode="offer",
    )
    quiet = await make_cohort(
        session,
        code="quiet-isb",
        status="in_progress",
        start_date=started,
        waitlist_mode="offer",
    )
    now = datetime.now(UTC)
    await make_enrollment(
        session, cohort, status="offered", offer_expires_at=now + timedelta(hours=5)
    )
    # An offer that is already due is not pending: that cohort stays off the panel.
    await make_enrollment(
        session, quiet, status="offered", offer_expires_at=now - timedelta(seconds=1)
    )
    await sign_in(client, await make_key(session, "staff", centres=["isb-gitc"]))
    html = (await client.get("/dashboard")).text
    row = html.split('data-cohort="running-isb"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num offers-pending">1</td>' in row
    assert '<td class="num offers-expiring">1</td>' in row
    assert 'data-cohort="quiet-isb"' not in html


async def test_empty_database_renders(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await sign_in(client, await make_key(session, "staff"))
    r = await client.get("/dashboard")
    assert r.status_code == 200
    assert "No trainees recorded yet for zte-100k." in r.text
    assert "No open cohorts start in the next 30 days" in r.text


async def test_public_page_is_off_by_default(client: httpx.AsyncClient) -> None:
    r = await client.get("/progress")
    assert r.status_code == 404
    assert r.json()["status"] == 404


async def test_public_page_shows_aggregates_only(
    client: httpx.AsyncClient, session: AsyncSession, dashboard_settings: DashboardSettings
) -> None:
    dashboard_settings.public_dashboard = True
    world = await build_world(session)
    await make_cohort(session, code="soon-isb", start_date=world.today + timedelta(days=3))
    r = await client.get("/progress")
    assert r.status_code == 200
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    html = r.text
    page = parse(html)
    assert int(page.data["target-zte-100k"]["data-achieved"]) == 2
    assert 'id="cumulative-zte-100k"' in html
    assert 'id="breakdown-province"' in html
    assert 'id="breakdown-gender"' in html
    assert 'id="breakdown-age_band"' not in html
    assert "&lt;5" in html  # every group here is small
    assert 'id="cohort-panel"' not in html
    assert "Sign out" not in html
    for leak in ("soon-isb", "zte-isb-1", "ZTE-TEST", "Lahore"):
        assert leak not in html
    for person in world.people.values():
        assert person.cnic not in html
        assert person.id not in html


def test_weekly_buckets_and_pace_line() -> None:
    monday = date(2026, 1, 5)
    points = weekly(
        [(monday, 2), (monday + timedelta(days=3), 1), (monday + timedelta(days=15), 4)],
        goal=100,
        today=monday + timedelta(days=22),
        pace_end=monday + timedelta(days=70),
    )
    assert [(p.week, p.new, p.cumulative, p.pace) for p in points] == [
        (monday, 3, 3, 0),
        (monday + timedelta(days=7), 0, 3, 10),
        (monday + timedelta(days=14), 4, 7, 20),
        (monday + timedelta(days=21), 0, 7, 30),
    ]
    assert weekly([], goal=10, today=monday, pace_end=None) == []
    no_line = weekly([(monday, 1)], goal=10, today=monday, pace_end=None)
    assert no_line[0].pace is None


async def test_seats_available_leave_out_reserved_seats_as_the_api_does(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A cohort with a women's pool not yet released: its free pool seats are not open
    seats, on the panel as in the API's seats_available."""
    admin = await make_key(session, "admin")
    soon = date.today() + timedelta(5)
    body = {
        "programme": "zte-ict",
        "centre": "isb-gitc",
        "code": "pooled-isb",
        "name": "Pooled",
        "track": "cloud",
        "start_date": soon.isoformat(),
        "end_date": (soon + timedelta(60)).isoformat(),
        "capacity": 10,
        "mode": "onsite",
        "reserved": [{"code": "women", "seats": 4, "rule": {"gender": ["female"]}}],
    }
    r = await client.post("/api/v1/cohorts", json=body, headers=auth(admin))
    assert r.status_code == 201, r.text
    cohort_id = r.json()["id"]
    for gender in ("female", "male"):
        person = await make_applicant(session, gender=gender)
        r = await client.post(
            f"/api/v1/cohorts/{cohort_id}/enrollments",
            json={"applicant_id": person.id},
            headers=auth(admin),
        )
        assert r.status_code == 201, r.text
    api = (await client.get(f"/api/v1/cohorts/{cohort_id}", headers=auth(admin))).json()
    assert api["seats_available"] == 10 - 2 - 3  # the pool's 3 free seats wait for women
    await sign_in(client, admin)
    html = (await client.get("/dashboard")).text
    row = html.split('data-cohort="pooled-isb"', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num seats-available">{api["seats_available"]}</td>' in row
