"""POST /api/v1/outcomes/import: per-row errors with line numbers, dry run, re-upload safe."""

from __future__ import annotations

import io

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Outcome, OutcomeCorrection
from tests.factories import auth, make_key
from tests.outcomes.helpers import completer, events_of

URL = "/api/v1/outcomes/import"


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], text: str, **params: str
) -> httpx.Response:
    files = {"file": ("o.csv", io.BytesIO(text.encode()), "text/csv")}
    return await client.post(URL, files=files, params=params, headers=headers)


async def test_import_dry_run_errors_and_reupload(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = auth(await make_key(session, "staff"))
    a, b = await completer(session), await completer(session)
    failed = await completer(session, status="failed")
    text = (
        "enrollment_id,follow_up,status,income_band,online_store,export_orders,"
        "export_value_usd,source,recorded_on\n"
        f"{a.id},6m,employed,25k_50k,TRUE,2,300.5,phone,2026-11-01\n"
        f"{a.id},3m,unemployed,,,,,survey,\n"
        "\n"
        f"{b.id},6m,retired,rich,maybe,-1,-2,pigeon,2026-13-01\n"
        f"{failed.id},6m,employed,,,,,phone,\n"
        f"no-such-id,6m,employed,,,,,phone,\n"
        f"{b.id},12m,self_employed,gt_100k,no,0,0,partner_app,\n"
    )
    dry = await upload(client, staff, text, dry_run="true")
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (3, 0, 0)
    assert report["dry_run"] is True
    assert {(e["row"], e["field"]) for e in report["errors"]} == {
        (5, "status"), (5, "income_band"), (5, "online_store"), (5, "export_orders"),
        (5, "export_value_usd"), (5, "source"), (5, "recorded_on"),
        (6, "enrollment_id"), (7, "enrollment_id"),
    }  # fmt: skip
    assert await session.scalar(select(func.count()).select_from(Outcome)) == 0
    real = (await upload(client, staff, text)).json()
    assert {k: real[k] for k in ("created", "updated", "unchanged", "dry_run")} == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "dry_run": False,
    }
    assert real["errors"] == report["errors"]
    assert len(await events_of(session, "outcome.recorded")) == 3
    # The same file again creates nothing and changes nothing.
    again = (await upload(client, staff, text)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert len(await events_of(session, "outcome.recorded")) == 3
    # A correcting file: changed columns move with an audit row; missing columns stay.
    fix = (
        "enrollment_id,follow_up,status,source\n"
        f"{a.id},6m,freelance,phone\n{a.id},3m,unemployed,survey\n"
    )
    fixed = (await upload(client, staff, fix)).json()
    assert (fixed["created"], fixed["updated"], fixed["unchanged"]) == (0, 1, 1)
    row = await session.scalar(
        select(Outcome).where(Outcome.enrollment_id == a.id, Outcome.follow_up == "6m")
    )
    assert row is not None
    await session.refresh(row)
    assert (row.status, row.income_band, row.export_orders) == ("freelance", "25k_50k", 2)
    assert await session.scalar(select(func.count()).select_from(OutcomeCorrection)) == 1


async def test_import_header_scope_and_roles(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    partner = await make_key(session, "client")
    mine = await completer(session, client_key_id=partner.id)
    theirs = await completer(session)
    text = (
        f"enrollment_id,follow_up,status,source\n{mine.id},6m,employed,phone\n"
        f"{theirs.id},6m,employed,phone\n"
    )
    report = (await upload(client, auth(partner), text)).json()
    assert report["created"] == 1
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(3, "enrollment_id")]
    lacking = await upload(client, auth(partner), "enrollment_id,status\nx,employed\n")
    assert lacking.status_code == 422
    assert [e["field"] for e in lacking.json()["errors"]] == ["file"]
    empty = await upload(client, auth(partner), "")
    assert empty.status_code == 422
    reporter = auth(await make_key(session, "reporter"))
    assert (await upload(client, reporter, text)).status_code == 403
