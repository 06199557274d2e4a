"""GET /api/v1/reports/outcomes, the small-count rule, staff scope, and the employed target."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_key, unique
from tests.outcomes.helpers import URL, cohort, completer, outcome

REPORT = "/api/v1/reports/outcomes"


async def world(client: httpx.AsyncClient, session: AsyncSession) -> dict[str, str]:
    """ZTE: six completers 175 days ago (3 employed, 1 unemployed, 1 unreachable, 1 silent)
    and two 100 days ago (their 6m window not open: one answered early); Alibaba: two
    completers 200 days ago, one freelance earning 25k-50k."""
    admin = auth(await make_key(session, "admin"))
    zte = await cohort(session)
    ali = await cohort(session, programme_code="alibaba-ecommerce", centre_code="online")
    statuses = ["employed", "self_employed", "employed", "unemployed", "unreachable", None]
    for status in statuses:
        done = await completer(session, days_ago=175, in_cohort=zte)
        if status:
            body = outcome(status=status)
            assert (await client.post(URL.format(done.id), json=body, headers=admin)).is_success
    early = await completer(session, days_ago=100, in_cohort=zte)
    await completer(session, days_ago=100, in_cohort=zte)
    await client.post(URL.format(early.id), json=outcome(), headers=admin)
    first = await completer(session, days_ago=200, in_cohort=ali)
    await completer(session, days_ago=200, in_cohort=ali)
    body = outcome(status="freelance", income_band="25k_50k", online_store=True, export_orders=1)
    await client.post(URL.format(first.id), json=body, headers=admin)
    return admin


async def report(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> Any:
    r = await client.get(REPORT, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_report_rates_suppression_and_scope(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await world(client, session)
    body = await report(client, admin)
    assert (body["follow_up"], body["dimension"]) == ("6m", "programme")
    assert body["rows"] == [
        {
            "key": "alibaba-ecommerce",
            "completers": 2,
            "responses": 1,
            "response_rate": 50.0,
            "employed": 1,
            "employment_rate": 100.0,
            "statuses": {"freelance": 1},
            "income_bands": {"25k_50k": 1},
        },
        {
            "key": "zte-ict",
            "completers": 6,
            "responses": 5,
            "response_rate": 83.33,
            "employed": 3,
            "employment_rate": 75.0,
            "statuses": {"employed": 2, "self_employed": 1, "unemployed": 1, "unreachable": 1},
            "income_bands": {},
        },
    ]
    # 3m: every completion's window has opened; only the early answer is a 3m... none.
    three = await report(client, admin, follow_up="3m", programme="zte-ict")
    assert [(r["completers"], r["responses"], r["response_rate"]) for r in three["rows"]] == [
        (8, 0, 0.0)
    ]
    assert three["rows"][0]["employment_rate"] is None
    # Reporters: counts under 5 read "<5", and no rate is built on one.
    reporter = auth(await make_key(session, "reporter"))
    shown = {r["key"]: r for r in (await report(client, reporter))["rows"]}
    zte = shown["zte-ict"]
    assert (zte["completers"], zte["responses"], zte["response_rate"]) == (6, 5, 83.33)
    assert (zte["employed"], zte["employment_rate"]) == ("<5", None)
    assert zte["statuses"] == {
        "employed": "<5", "self_employed": "<5", "unemployed": "<5", "unreachable": "<5"
    }  # fmt: skip
    ali = shown["alibaba-ecommerce"]
    assert (ali["completers"], ali["response_rate"], ali["employment_rate"]) == ("<5", None, None)
    # Staff keys see their centres only; other dimensions group as breakdowns do.
    online = auth(await make_key(session, "staff", centres=["online"]))
    assert [r["key"] for r in (await report(client, online))["rows"]] == ["alibaba-ecommerce"]
    by_centre = await report(client, admin, dimension="centre")
    assert {r["key"]: r["completers"] for r in by_centre["rows"]} == {"isb-gitc": 6, "online": 2}
    by_gender = await report(client, admin, dimension="gender")
    assert [r["completers"] for r in by_gender["rows"]] == [8]
    # Bad input and roles.
    for params, field in [
        ({"dimension": "colour"}, "dimension"),
        ({"follow_up": "2m"}, "follow_up"),
        ({"programme": "nope"}, "programme"),
    ]:
        r = await client.get(REPORT, params=params, headers=admin)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == [field]
    partner = auth(await make_key(session, "client"))
    assert (await client.get(REPORT, headers=partner)).status_code == 403
    assert (await client.get(REPORT)).status_code == 401


async def test_employed_target_metric(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = await world(client, session)
    code = unique("jobs")
    target = {"code": code, "name": "Jobs", "goal": 10, "metric": "employed"}
    r = await client.post(
        "/api/v1/targets", json={**target, "programmes": ["zte-ict"]}, headers=admin
    )
    assert r.status_code == 201, r.text
    progress = (await client.get("/api/v1/reports/progress", headers=admin)).json()
    [row] = [t for t in progress["targets"] if t["code"] == code]
    # Three employed at 6m in the world's windows, and the early 6m answer of a completion
    # 100 days ago: the metric counts trainees with such an outcome, whenever recorded.
    assert (row["metric"], row["achieved"], row["percent"]) == ("employed", 4, 40.0)
    assert row["completions_last_30_days"] == 0
    assert abs(row["daily_rate"] - 4 / 30) < 1e-9
