"""The due list (exact at the instant of the read) and the ``outcome.due`` job."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.clock import ManualClock
from service.core.db import Database
from service.models import Outcome
from service.models.base import utcnow
from service.outcomes.due import emit_due
from service.scheduler import JOBS, run_jobs
from tests.factories import auth, make_key
from tests.outcomes.helpers import PERSONAL, URL, cohort, completer, events_of, outcome

DUE = "/api/v1/outcomes/due"


async def due_ids(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[tuple[str, str]]:
    r = await client.get(DUE, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return [(i["enrollment_id"], i["follow_up"]) for i in r.json()["items"]]


async def test_due_list_windows_filters_and_scope(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = auth(await make_key(session, "admin"))
    partner = await make_key(session, "client")
    ages = [10, 79, 80, 120, 121, 169, 170, 210, 211, 349, 350, 400, 401]
    e = {age: await completer(session, days_ago=age, client_key_id=partner.id) for age in ages}
    expected = {
        (e[80].id, "3m"), (e[120].id, "3m"), (e[170].id, "6m"), (e[210].id, "6m"),
        (e[350].id, "12m"), (e[400].id, "12m"),
    }  # fmt: skip
    assert set(await due_ids(client, admin)) == expected
    assert set(await due_ids(client, admin, follow_up="6m")) == {
        (e[170].id, "6m"),
        (e[210].id, "6m"),
    }
    # An outcome for the follow-up takes it off the list; one for another follow-up does not.
    await client.post(URL.format(e[170].id), json=outcome(), headers=admin)
    await client.post(URL.format(e[80].id), json=outcome(follow_up="6m"), headers=admin)
    assert set(await due_ids(client, admin, follow_up="6m")) == {(e[210].id, "6m")}
    assert (e[80].id, "3m") in await due_ids(client, admin, follow_up="3m")
    # The item, and pagination.
    r = await client.get(DUE, params={"follow_up": "12m", "limit": 1}, headers=admin)
    page = r.json()
    [item] = page["items"]
    assert set(item) == {
        "enrollment_id", "applicant_id", "cohort_id", "cohort", "programme", "centre",
        "follow_up", "completed_at", "window_opens", "window_closes",
    }  # fmt: skip
    assert not set(item) & set(PERSONAL)
    assert (item["programme"], item["centre"]) == ("zte-ict", "isb-gitc")
    # Oldest completion first: the 400-day one, whose window closes today.
    assert item["enrollment_id"] == e[400].id
    completed = e[400].completed_at
    assert completed is not None
    assert item["window_opens"] == str(completed.date() + timedelta(days=350))
    assert item["window_closes"] == str(completed.date() + timedelta(days=400))
    rest = await client.get(
        DUE, params={"follow_up": "12m", "cursor": page["next_cursor"]}, headers=admin
    )
    assert [i["enrollment_id"] for i in rest.json()["items"]] == [e[350].id]
    for cursor in ("bm9wZQ", page["next_cursor"][:-3], "x" * 40):
        bad_page = await client.get(DUE, params={"cursor": cursor}, headers=admin)
        assert [x["field"] for x in bad_page.json()["errors"]] == ["cursor"], cursor
    assert rest.json()["next_cursor"] is None
    # Filters: programme and centre codes; unknown codes are 422.
    online = await cohort(session, centre_code="online", programme_code="alibaba-ecommerce")
    far = await completer(session, days_ago=100, in_cohort=online)
    assert await due_ids(client, admin, centre="online") == [(far.id, "3m")]
    assert await due_ids(client, admin, programme="alibaba-ecommerce") == [(far.id, "3m")]
    assert (far.id, "3m") not in await due_ids(client, admin, programme="zte-ict")
    for name in ("centre", "programme"):
        bad = await client.get(DUE, params={name: "nowhere"}, headers=admin)
        assert [x["field"] for x in bad.json()["errors"]] == [name]
    bad = await client.get(DUE, params={"follow_up": "2m"}, headers=admin)
    assert [x["field"] for x in bad.json()["errors"]] == ["follow_up"]
    # Scope: a client sees its own applicants', staff its centres'; reporters none.
    mine = await due_ids(client, auth(partner))
    assert (far.id, "3m") not in mine
    assert (e[210].id, "6m") in mine
    assert await due_ids(client, auth(await make_key(session, "client"))) == []
    staff = auth(await make_key(session, "staff", centres=["online"]))
    assert await due_ids(client, staff) == [(far.id, "3m")]
    assert (
        await client.get(DUE, headers=auth(await make_key(session, "reporter")))
    ).status_code == 403
    assert (await client.get(DUE)).status_code == 401


async def test_due_events_once_each_however_late_the_job_runs(
    session: AsyncSession, database: Database
) -> None:
    assert ("outcome.due", emit_due) in JOBS
    now = utcnow()
    # Completions whose 3m window opens in 1, 5 and 30 days; one long closed; one with
    # an outcome recorded early; one revoked.
    soon = await completer(session, days_ago=79)
    later = await completer(session, days_ago=75)
    month = await completer(session, days_ago=50)
    await completer(session, days_ago=300)
    early = await completer(session, days_ago=78)
    session.add(
        Outcome(
            enrollment_id=early.id,
            follow_up="3m",
            status="employed",
            source="phone",
            recorded_on=now.date(),
        )
    )
    await session.flush()
    clock = ManualClock(now)
    await run_jobs(database, clock)
    first = [d for d in await events_of(session, "outcome.due") if d["follow_up"] == "3m"]
    # Nothing has opened yet except windows long past (skipped, not announced).
    assert [d["enrollment_id"] for d in first] == []
    # Two days on: one window opened; running twice emits it once.
    clock.advance(2 * 86400)
    await run_jobs(database, clock)
    await run_jobs(database, clock)
    due = [d for d in await events_of(session, "outcome.due") if d["follow_up"] == "3m"]
    assert [d["enrollment_id"] for d in due] == [soon.id]
    assert due[0]["status"] == "completed"
    assert not set(due[0]) & set(PERSONAL)
    # The worker was down for 40 days: everything opened meanwhile, once, in order;
    # the early outcome's window is not announced.
    clock.advance(40 * 86400)
    while await emit_due(database, clock.now()):
        pass
    due = [d for d in await events_of(session, "outcome.due") if d["follow_up"] == "3m"]
    assert [d["enrollment_id"] for d in due] == [soon.id, later.id, month.id]
    clock.advance(86400)
    await run_jobs(database, clock)
    assert len([d for d in await events_of(session, "outcome.due") if d["follow_up"] == "3m"]) == 3
