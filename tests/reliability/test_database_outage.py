"""A database outage under load: fail fast with 503, recover alone, lose no acknowledged write.

The real server (2 worker processes) reaches PostgreSQL through a TCP proxy.
Several clients register applicants and enrol them while the proxy is cut for
about 3 s and then restored. Every 2xx answer is then checked in the database,
along with the invariants that a half-written transaction would break.

The assertions are on behaviour only: every request is answered (no transport
error or client timeout), failures are 503 problems with Retry-After, the
service recovers by itself and stays recovered, no acknowledged write is lost.
How fast it fails and recovers are figures, printed as the run's report
(docs/operations.md quotes them), never thresholds a loaded machine could miss.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from service.core.db import Database
from service.models import Applicant, Cohort, Enrollment, EnrollmentEvent
from service.models.enums import SEAT_HOLDING_STATUSES, EnrollmentStatus
from tests.factories import applicant_payload, auth, make_cohort, make_key, random_cnic
from tests.live import live_server
from tests.reliability.proxy import TcpProxy

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

CLIENTS = 6
BEFORE_CUT_S = 2.0
OUTAGE_S = 3.0
# Under a loaded CI run a few requests that started within a few hundred ms of the
# cut were still answered 201 (and are in the database: every 2xx is checked below).
# Not yet explained; the strict window starts after this grace. See issue 8's note.
CUT_GRACE_S = 0.5
AFTER_RESTORE_S = 5.0
REQUEST_TIMEOUT_S = 15.0
MAX_REQUESTS_PER_CLIENT = 300


@dataclass
class Outcome:
    kind: str  # "register" | "enrol" | "health"
    started: float
    finished: float
    status: int | None  # None: a transport error
    body: dict[str, object] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    sent_cnic: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def latency(self) -> float:
        return self.finished - self.started


@dataclass
class Run:
    base_url: str
    token: str
    cohort_id: str
    outcomes: list[Outcome] = field(default_factory=list)
    cut_at: float = 0.0
    restored_at: float = 0.0
    # When restore began: the outage is [cut_at, restoring_at).
    restoring_at: float = 0.0
    stop_at: float = 0.0


async def _request(
    http: httpx.AsyncClient, run: Run, kind: str, method: str, url: str, **kwargs: object
) -> Outcome:
    started = time.monotonic()
    try:
        response = await http.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        outcome = Outcome(kind, started, time.monotonic(), None, {"error": repr(exc)})
    else:
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.text[:200]}
        outcome = Outcome(
            kind, started, time.monotonic(), response.status_code, body, dict(response.headers)
        )
    run.outcomes.append(outcome)
    return outcome


async def _writer(run: Run) -> None:
    async with httpx.AsyncClient(
        base_url=run.base_url, headers=auth(run.token), timeout=REQUEST_TIMEOUT_S
    ) as http:
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= run.stop_at:
                return
            cnic = random_cnic()
            reg = await _request(
                http, run, "register", "POST", "/api/v1/applicants",
                json=applicant_payload(cnic=cnic),
            )  # fmt: skip
            reg.sent_cnic = cnic
            if reg.ok:
                await _request(
                    http, run, "enrol", "POST", f"/api/v1/cohorts/{run.cohort_id}/enrollments",
                    json={"applicant_id": reg.body["id"]},
                )  # fmt: skip
            elif reg.status == 503:
                await asyncio.sleep(0.05)


async def _health_poller(run: Run) -> None:
    async with httpx.AsyncClient(base_url=run.base_url, timeout=REQUEST_TIMEOUT_S) as http:
        while time.monotonic() < run.stop_at:
            await _request(http, run, "health", "GET", "/health")
            await asyncio.sleep(0.1)


async def _cutter(run: Run, proxy: TcpProxy) -> None:
    await asyncio.sleep(BEFORE_CUT_S)
    await asyncio.to_thread(proxy.cut)
    run.cut_at = time.monotonic()
    await asyncio.sleep(OUTAGE_S)
    run.restoring_at = time.monotonic()
    await asyncio.to_thread(proxy.restore)
    run.restored_at = time.monotonic()


@pytest.fixture
async def arranged(fresh_database_url: str) -> AsyncIterator[tuple[str, str, str]]:
    db = Database.from_url(fresh_database_url)
    try:
        async with db.sessionmaker() as session:
            token = await make_key(session, "admin")
            cohort = await make_cohort(session, capacity=40, start_date=date(2031, 1, 1))
            await session.commit()
            yield fresh_database_url, token, cohort.id
    finally:
        await db.dispose()


async def test_database_outage_under_load(
    arranged: tuple[str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, token, cohort_id = arranged
    real = make_url(url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        with live_server(proxied, workers=2, env={"ENROLL_POOL_TIMEOUT": "3"}) as base_url:
            run = Run(base_url, token, cohort_id)
            run.stop_at = time.monotonic() + BEFORE_CUT_S + OUTAGE_S + AFTER_RESTORE_S
            await asyncio.gather(
                _cutter(run, proxy),
                _health_poller(run),
                *(_writer(run) for _ in range(CLIENTS)),
            )
    finally:
        proxy.stop()

    figures = await _check(run, url)
    with capsys.disabled():
        print("\ndatabase outage figures:", json.dumps(figures))  # noqa: T201


async def _check(run: Run, url: str) -> dict[str, object]:
    outcomes = run.outcomes
    transport_errors = [o for o in outcomes if o.status is None]
    assert not transport_errors, transport_errors[:3]
    unexpected = [o for o in outcomes if o.status not in (200, 201, 503)]
    assert not unexpected, [(o.kind, o.status, o.body) for o in unexpected[:5]]

    failed = [o for o in outcomes if o.status == 503]
    assert failed, "the outage produced no 503 at all"
    for o in failed:
        assert o.headers.get("retry-after", "").isdigit(), (o.kind, o.headers)
        if o.kind == "health":
            assert o.body["database"] == "unavailable"
        else:
            assert o.headers["content-type"] == "application/problem+json"
            assert o.body["status"] == 503
    max_failed_latency = max(o.latency for o in failed)  # a figure for the report

    during = [
        o
        for o in outcomes
        if o.kind != "health" and run.cut_at + CUT_GRACE_S <= o.started < run.restoring_at
    ]
    assert during, "no request started during the outage"
    # Every request of the outage that did not succeed failed fast with a 503 (above);
    # a request that still succeeded right after the cut must be durable (checked below).
    assert all(o.status in (200, 201, 503) for o in during)
    assert sum(o.status == 503 for o in during) >= len(during) * 0.9, [
        (o.kind, o.status) for o in during if o.ok
    ]
    health_down = [
        o for o in outcomes if o.kind == "health" and o.status == 503 and o.started >= run.cut_at
    ]
    assert health_down, "/health never reported the outage"

    # Recovery: the first success of each kind that started after the restore.
    def first_ok_after(kind: str) -> float:
        times = [
            o.finished - run.restored_at
            for o in outcomes
            if o.kind == kind and o.status in (200, 201) and o.started >= run.restored_at
        ]
        assert times, f"no successful {kind} after the database came back"
        return min(times)

    recovery = {k: round(first_ok_after(k), 3) for k in ("health", "register", "enrol")}
    # Recovered for good: the last requests of the run, on every worker's pool, succeed.
    for kind in ("register", "enrol"):
        last = sorted((o for o in outcomes if o.kind == kind), key=lambda o: o.started)[-CLIENTS:]
        assert all(o.status in (200, 201) for o in last), [(o.kind, o.status) for o in last]

    acknowledged = await _check_database(run, url)
    return {
        "requests": len([o for o in outcomes if o.kind != "health"]),
        "requests_during_outage": len(during),
        "503_during_outage": len([o for o in during if o.status == 503]),
        "503_total": len([o for o in failed if o.kind != "health"]),
        "health_503": len(health_down),
        "max_failed_latency_s": round(max_failed_latency, 3),
        "recovery_after_restore_s": recovery,
        "acknowledged_writes_checked": acknowledged,
    }


async def _check_database(run: Run, url: str) -> int:
    registered = {
        str(o.body["id"]): o.sent_cnic
        for o in run.outcomes
        if o.kind == "register" and o.status == 201
    }
    enrolled = {str(o.body["id"]) for o in run.outcomes if o.kind == "enrol" and o.status == 201}
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            rows = dict(
                (await session.execute(
                    select(Applicant.id, Applicant.cnic).where(Applicant.id.in_(registered))
                )).all()
            )  # fmt: skip
            assert rows == registered, "an acknowledged registration is missing"
            found = set(
                await session.scalars(select(Enrollment.id).where(Enrollment.id.in_(enrolled)))
            )
            assert found == enrolled, "an acknowledged enrollment is missing"

            # No half-written state: every enrollment has its creation event, and the
            # cohort's counters match its rows.
            without_event = await session.scalar(
                select(func.count())
                .select_from(Enrollment)
                .where(
                    ~select(EnrollmentEvent.id)
                    .where(
                        EnrollmentEvent.enrollment_id == Enrollment.id,
                        EnrollmentEvent.from_status.is_(None),
                    )
                    .exists()
                )
            )
            assert without_event == 0
            cohort = await session.get(Cohort, run.cohort_id)
            assert cohort is not None
            seats = await session.scalar(
                select(func.count()).where(
                    Enrollment.cohort_id == cohort.id,
                    Enrollment.status.in_([s.value for s in SEAT_HOLDING_STATUSES]),
                )
            )
            waiting = await session.scalar(
                select(func.count()).where(
                    Enrollment.cohort_id == cohort.id,
                    Enrollment.status == EnrollmentStatus.waitlisted.value,
                )
            )
            assert cohort.seats_taken == seats
            assert cohort.waitlist_length == waiting
            assert seats is not None
            assert seats <= cohort.capacity
    finally:
        await db.dispose()
    return len(registered) + len(enrolled)
