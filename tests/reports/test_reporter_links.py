"""What a reporter can link (contract: Reports), and centre-scoped staff, in the feed and the CSV.

A reporter gets no certificate code and per-key pseudonyms for enrollment and
applicant ids: stable for its key, different for every key, computed from a
secret the database keeps. A staff key scoped to centres gets only those.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.pseudonyms import SECRET_NAME, pseudonyms_for
from service.models import Certificate, ServerSecret
from tests.factories import auth
from tests.reports.fixtures import World, build_world
from tests.reports.keys import report_key

FEED = "/api/v1/reports/completions"
CSV = "/api/v1/reports/completions.csv"


async def feed_items(client: httpx.AsyncClient, token: str) -> tuple[list[dict[str, Any]], str]:
    r = await client.get(FEED, params={"limit": 500}, headers=auth(token))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items, r.text


async def csv_rows(
    client: httpx.AsyncClient, token: str, **params: str
) -> tuple[list[dict[str, str]], str]:
    r = await client.get(CSV, params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text))), r.text


def real_ids(world: World) -> set[str]:
    return {e.id for e in world.enrollments.values()} | {p.id for p in world.people.values()}


def assert_nothing_linkable(world: World, text: str) -> None:
    """No real enrollment or applicant id, and no certificate code, anywhere in ``text``."""
    for secret in real_ids(world) | {c.code for c in world.certificates.values()}:
        assert secret not in text
        assert secret.replace("-", "") not in text


async def test_reporter_feed_has_pseudonyms_and_no_codes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    token, _ = await report_key(session, "reporter")
    items, text = await feed_items(client, token)
    assert [i["kind"] for i in items] == ["completion"] * 5 + ["revocation"]
    assert {i["certificate_code"] for i in items} == {None}
    assert_nothing_linkable(world, text)
    for item in items:
        uuid.UUID(item["enrollment_id"])  # the shape of an id, not the value
        uuid.UUID(item["applicant_id"])
    # Distinct trainees still count: A's three completions share one applicant pseudonym.
    completions = [i for i in items if i["kind"] == "completion"]
    assert len({i["applicant_id"] for i in completions}) == 3  # A, B, C
    assert len({i["enrollment_id"] for i in completions}) == 5
    # The revocation names the same (pseudonymous) enrollment as its completion: C's.
    revocation = items[-1]
    c_completion = completions[4]
    assert revocation["enrollment_id"] == c_completion["enrollment_id"]
    assert revocation["applicant_id"] == c_completion["applicant_id"]

    # Stable for the key: polling again gives the same pseudonyms, and so does a
    # revocation that comes later.
    again, _ = await feed_items(client, token)
    assert [(i["enrollment_id"], i["applicant_id"]) for i in again] == [
        (i["enrollment_id"], i["applicant_id"]) for i in items
    ]
    await session.execute(
        update(Certificate)
        .where(Certificate.id == world.certificates["B-isb"].id)
        .values(revoked_at=datetime.now(UTC), revoked_reason="duplicate")
    )
    later, _ = await feed_items(client, token)
    assert later[-1]["kind"] == "revocation"
    assert later[-1]["enrollment_id"] == completions[3]["enrollment_id"]  # B-isb


async def test_pseudonyms_differ_for_every_key(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    first, _ = await report_key(session, "reporter")
    second, _ = await report_key(session, "reporter")
    a_items, _ = await feed_items(client, first)
    b_items, _ = await feed_items(client, second)
    assert [i["position"] for i in a_items] == [i["position"] for i in b_items]
    a_ids = {i["enrollment_id"] for i in a_items} | {i["applicant_id"] for i in a_items}
    b_ids = {i["enrollment_id"] for i in b_items} | {i["applicant_id"] for i in b_items}
    assert not a_ids & b_ids
    assert not (a_ids | b_ids) & real_ids(world)
    a_csv, _ = await csv_rows(client, first)
    b_csv, _ = await csv_rows(client, second)
    assert not {r["enrollment_id"] for r in a_csv} & {r["enrollment_id"] for r in b_csv}


async def test_reporter_csv_agrees_with_its_feed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Both export paths (COPY on PostgreSQL, Python on SQLite) pseudonymise as the feed does."""
    world = await build_world(session)
    token, _ = await report_key(session, "reporter")
    items, _ = await feed_items(client, token)
    rows, text = await csv_rows(client, token)
    assert_nothing_linkable(world, text)
    live = [i for i in items if i["kind"] == "completion"][:4]  # C's was revoked
    assert sorted((r["enrollment_id"], r["applicant_id"]) for r in rows) == sorted(
        (i["enrollment_id"], i["applicant_id"]) for i in live
    )
    assert {r["certificate_code"] for r in rows} == {""}


async def test_pseudonyms_are_keyed_by_the_database_secret_and_the_key(
    session: AsyncSession,
) -> None:
    """HMAC(HMAC(server secret, key id), kind:id): nothing a process makes up at start."""
    world = await build_world(session)
    _, actor = await report_key(session, "reporter")
    server = await session.scalar(
        select(ServerSecret.value).where(ServerSecret.name == SECRET_NAME)
    )
    assert server is not None
    assert len(bytes.fromhex(server)) == 32
    key = hmac.new(bytes.fromhex(server), actor.key_id.encode(), hashlib.sha256).digest()
    enrollment = world.enrollments["A-isb"].id
    digest = hmac.new(key, f"enrollment:{enrollment}".encode(), hashlib.sha256).digest()
    pseudonyms = await pseudonyms_for(session, actor.key_id)
    assert pseudonyms.of("enrollment", enrollment) == str(uuid.UUID(bytes=digest[:16]))
    assert pseudonyms.of("applicant", enrollment) != pseudonyms.of("enrollment", enrollment)
    assert repr(pseudonyms) == "Pseudonyms(<secret>)"  # never the key itself


async def test_scoped_staff_sees_only_its_centres(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    scoped, _ = await report_key(session, "staff", centres=["isb-gitc"])
    everywhere, _ = await report_key(session, "staff")
    isb = {world.enrollments[k].id for k in ("A-isb", "B-isb", "C-isb")}

    items, _ = await feed_items(client, scoped)
    assert {i["enrollment_id"] for i in items} == isb
    assert [i["kind"] for i in items] == ["completion"] * 3 + ["revocation"]
    assert {i["centre"] for i in items} == {"isb-gitc"}
    assert items[0]["certificate_code"] == "ZTE-TEST-A-ISB"  # staff see codes and real ids

    for fields in ("standard", "full"):
        rows, _ = await csv_rows(client, scoped, fields=fields)
        assert {r["enrollment_id"] for r in rows} == isb - {world.enrollments["C-isb"].id}
        assert {r["centre"] for r in rows} == {"isb-gitc"}
    full, _ = await csv_rows(client, scoped, fields="full")
    assert {r["full_name"] for r in full} == {
        world.people["A"].full_name,
        world.people["B"].full_name,
    }

    all_items, _ = await feed_items(client, everywhere)
    assert len(all_items) == 6
    all_rows, _ = await csv_rows(client, everywhere, fields="full")
    assert {r["centre"] for r in all_rows} == {"isb-gitc", "online"}


async def test_scoped_staff_cursor_moves_past_other_centres(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Paging a scoped feed never repeats or skips one of its completions."""
    world = await build_world(session)
    scoped, _ = await report_key(session, "staff", centres=["online"])
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    for _ in range(5):
        r = await client.get(FEED, params=params, headers=auth(scoped))
        body = r.json()
        seen += [i["enrollment_id"] for i in body["items"]]
        params["after"] = body["next_cursor"]
    assert seen == [world.enrollments["A-online"].id, world.enrollments["A-ali"].id]
    idle = await client.get(FEED, params=params, headers=auth(scoped))
    assert idle.json() == {"items": [], "next_cursor": params["after"]}
