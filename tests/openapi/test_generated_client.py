"""A client generated from the OpenAPI document works for every operation.

The document is exported, ``openapi-python-client`` generates a package from
it (no warnings), and the whole lifecycle runs through that package only:
every operation of the document at least once, its success and its main
error. The operations come from the document, so a new endpoint without a
call here fails the test. The app runs in-process over ASGI, on each backend.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from service.core.clock import ManualClock
from tests.factories import applicant_payload, cohort_payload, make_key, random_cnic, unique
from tests.openapi import client as generated

BASE_URL = "http://test"


@dataclass
class Generated:
    package: ModuleType
    operations: dict[str, ModuleType]
    spec: dict[str, Any]
    output: str


@pytest.fixture(scope="session")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    folder = tmp_path_factory.mktemp("client")
    spec = generated.document()
    output = generated.generate(folder, spec)
    package, operations = generated.load(folder)
    return Generated(package, operations, spec, output)


class Recorder(httpx.AsyncBaseTransport):
    """The ASGI transport, noting which document operation each request was."""

    def __init__(self, app: FastAPI, spec: dict[str, Any]) -> None:
        self.inner = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.called: set[str] = set()
        templates = [
            (path, method.upper(), op["operationId"])
            for path, item in spec["paths"].items()
            for method, op in item.items()
        ]
        # Most specific first: "/certificates/{code}.html" before "/certificates/{code}".
        templates.sort(key=lambda t: len(re.sub(r"\{\w+\}", "", t[0])), reverse=True)
        self.routes = [
            (re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(p)) + "$"), m, o)
            for p, m, o in templates
        ]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for pattern, method, operation in self.routes:
            if method == request.method and pattern.match(request.url.path):
                self.called.add(operation)
                break
        return await self.inner.handle_async_request(request)


@dataclass
class Partner:
    """Clients of the generated package, one per role, all through one recording transport."""

    gen: Generated
    recorder: Recorder
    clients: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, operation: str) -> Any:
        return self.gen.operations[operation].asyncio_detailed

    @property
    def models(self) -> Any:
        return self.gen.package.models

    def file(self, name: str, text: str) -> Any:
        types = __import__(f"{generated.PACKAGE}.types", fromlist=["File"])
        return types.File(payload=io.BytesIO(text.encode()), file_name=name, mime_type="text/csv")


@pytest.fixture
async def partner(
    generated_client: Generated, app: FastAPI, session: AsyncSession
) -> AsyncIterator[Partner]:
    recorder = Recorder(app, generated_client.spec)
    package = generated_client.package
    args = {"base_url": BASE_URL, "httpx_args": {"transport": recorder}}
    clients: dict[str, Any] = {"anonymous": package.Client(**args)}
    for role in ("admin", "staff", "client", "reporter"):
        token = await make_key(session, role)
        clients[role] = package.AuthenticatedClient(token=token, **args)
    clients["bad token"] = package.AuthenticatedClient(token="enr_not-a-real-token", **args)
    return Partner(generated_client, recorder, clients)


def test_the_generator_prints_no_warning(generated_client: Generated) -> None:
    assert "warning" not in generated_client.output.lower(), generated_client.output
    in_document = {
        op["operationId"]
        for item in generated_client.spec["paths"].values()
        for op in item.values()
    }
    assert set(generated_client.operations) == in_document


async def test_the_whole_lifecycle_through_the_generated_client(partner: Partner) -> None:
    p, m, c = partner, partner.models, partner.clients
    admin, staff, client, reporter = c["admin"], c["staff"], c["client"], c["reporter"]

    # Health, and the catalogue (with an idempotent retry).
    assert (await p.health(client=c["anonymous"])).parsed.status == "ok"
    assert (await p.ready(client=c["anonymous"])).parsed.migrations == "head"
    programmes = await p.list_programmes(client=client)
    assert "zte-ict" in [x.code for x in programmes.parsed.items]
    assert (await p.list_programmes(client=c["bad token"])).status_code == 401
    programme = m.ProgrammeCreate(code=unique("p"), name="P", partner="ZTE")
    key = unique("retry")
    first = await p.create_programme(client=admin, body=programme, idempotency_key=key)
    again = await p.create_programme(client=admin, body=programme, idempotency_key=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.parsed.id == first.parsed.id
    other = m.ProgrammeCreate(code=unique("p"), name="Q", partner="ZTE")
    reused = await p.create_programme(client=admin, body=other, idempotency_key=key)
    assert reused.status_code == 422
    assert reused.parsed.errors[0].field == "Idempotency-Key"
    assert (await p.create_programme(client=staff, body=other)).status_code == 403
    assert (await p.list_centres(client=client)).status_code == 200
    centre = m.CentreCreate.from_dict({"code": unique("c"), "name": "C"})
    assert (await p.create_centre(client=admin, body=centre)).status_code == 201
    assert (await p.list_targets(client=reporter)).status_code == 200
    target = m.TargetCreate.from_dict(
        {"code": unique("t"), "name": "T", "goal": 10, "metric": "trainees",
         "programmes": ["zte-ict"]}
    )  # fmt: skip
    assert (await p.create_target(client=admin, body=target)).status_code == 201

    # A cohort of one seat.
    cohort_body = m.CohortCreate.from_dict(
        cohort_payload(code=unique("cohort"), capacity=1, start_date="2031-01-10",
                       end_date="2031-03-10")
    )  # fmt: skip
    created = await p.create_cohort(client=staff, body=cohort_body)
    assert created.status_code == 201, created.content
    cohort = created.parsed
    assert created.headers["Location"] == f"/api/v1/cohorts/{cohort.id}"
    assert (await p.create_cohort(client=staff, body=cohort_body)).status_code == 409
    assert (await p.get_cohort(cohort.id, client=client)).parsed.seats_available == 1
    assert (await p.get_cohort("no-such-id", client=client)).status_code == 404
    listed = await p.list_cohorts(client=client, status=m.CohortStatus.OPEN, limit=500)
    assert cohort.id in [x.id for x in listed.parsed.items]

    # Register, read, patch and look up an applicant (the client's own).
    payload = applicant_payload()
    key = unique("register")
    registered = await p.register_applicant(
        client=client, body=m.ApplicantCreate.from_dict(payload), idempotency_key=key
    )
    assert registered.status_code == 201, registered.content
    applicant = registered.parsed
    assert registered.headers["Location"] == f"/api/v1/applicants/{applicant.id}"
    replayed = await p.register_applicant(
        client=client, body=m.ApplicantCreate.from_dict(payload), idempotency_key=key
    )
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.headers["Location"] == registered.headers["Location"]
    duplicate = await p.register_applicant(client=client, body=m.ApplicantCreate.from_dict(payload))
    assert (duplicate.status_code, duplicate.parsed.existing_id) == (409, applicant.id)
    assert (await p.get_applicant(applicant.id, client=client)).parsed.cnic == payload["cnic"]
    patched = await p.update_applicant(
        applicant.id, client=client, body=m.ApplicantUpdate.from_dict({"district": "Multan"})
    )
    assert patched.parsed.district == "Multan"
    found = await p.lookup_applicant(
        client=client, body=m.ApplicantLookup.from_dict({"cnic": payload["cnic"]})
    )
    assert [x.id for x in found.parsed.items] == [applicant.id]
    assert (await p.get_applicant(applicant.id, client=reporter)).status_code == 403
    correction = m.IdentityCorrection.from_dict({"gender": "male", "reason": "Mistyped"})
    assert (
        await p.correct_identity(applicant.id, client=staff, body=correction)
    ).status_code == 403
    corrected = await p.correct_identity(applicant.id, client=admin, body=correction)
    assert (corrected.status_code, corrected.parsed.gender) == (200, m.Gender.MALE)

    # Districts: the reference list, and an admin adding a district and an alias.
    districts = await p.list_districts(client=client, province=m.Province.ICT)
    assert [d.name for d in districts.parsed.items] == ["Islamabad"]
    district = m.DistrictCreate.from_dict(
        {"code": unique("pb-new"), "name": unique("Newabad"), "name_ur": "نیا آباد",
         "province": "punjab"}
    )  # fmt: skip
    assert (await p.create_district(client=staff, body=district)).status_code == 403
    made = await p.create_district(client=admin, body=district)
    assert made.status_code == 201, made.content
    alias = m.DistrictUpdate.from_dict({"aliases": [unique("Nayabad")]})
    added = await p.add_district_aliases(district.code, client=admin, body=alias)
    assert added.status_code == 200, added.content
    assert alias.aliases[0] in added.parsed.aliases

    # Import three more (staff): a CSV file as a multipart part.
    cnics = [random_cnic() for _ in range(3)]
    columns = list(payload)
    rows = [",".join(columns)] + [
        ",".join(str(v) for v in applicant_payload(cnic=cnic, consent="true").values())
        for cnic in cnics
    ]
    imported = await p.import_applicants(
        client=staff,
        body=m.BodyImportApplicants(file=p.file("applicants.csv", "\n".join(rows) + "\n")),
    )
    assert imported.status_code == 200, imported.content
    assert (imported.parsed.created, imported.parsed.errors) == (3, [])
    others = []
    for cnic in cnics:
        lookup = m.ApplicantLookup.from_dict({"cnic": cnic})
        others.append((await p.lookup_applicant(client=staff, body=lookup)).parsed.items[0])

    # Enrol: one seat, so the second waits; withdraw without a body; raise the capacity.
    def enrolment(who: Any) -> Any:
        return m.EnrollmentCreate(applicant_id=who.id)

    seated = await p.enroll(cohort.id, client=client, body=enrolment(applicant))
    assert seated.status_code == 201, seated.content
    assert seated.headers["Location"] == f"/api/v1/enrollments/{seated.parsed.id}"
    assert (seated.parsed.status, seated.parsed.waitlist_position) == ("enrolled", None)
    assert (await p.enroll(cohort.id, client=client, body=enrolment(applicant))).status_code == 409
    waiting = (await p.enroll(cohort.id, client=staff, body=enrolment(others[0]))).parsed
    assert (waiting.status, waiting.waitlist_position) == ("waitlisted", 1)
    withdrawn = await p.withdraw(waiting.id, client=staff)
    assert withdrawn.parsed.status == "withdrawn", withdrawn.content
    again_withdrawn = await p.withdraw(waiting.id, client=staff)
    assert again_withdrawn.status_code == 409
    raised = await p.update_cohort(
        cohort.id, client=staff, body=m.CohortUpdate.from_dict({"capacity": 4})
    )
    assert raised.parsed.capacity == 4
    enrolled = [seated.parsed]
    for other in others:
        enrolled.append((await p.enroll(cohort.id, client=staff, body=enrolment(other))).parsed)
    assert [e.status for e in enrolled] == ["enrolled"] * 4
    dropped = await p.drop(
        enrolled[3].id, client=staff, body=m.ReasonBody.from_dict({"reason": "Moved away"})
    )
    assert dropped.parsed.status == "dropped"
    page = await p.list_cohort_enrollments(cohort.id, client=staff, limit=2)
    rest = await p.list_cohort_enrollments(cohort.id, client=staff, cursor=page.parsed.next_cursor)
    assert len(page.parsed.items) + len(rest.parsed.items) == 5
    mine = await p.list_applicant_enrollments(applicant.id, client=client)
    assert [e.id for e in mine.parsed.items] == [seated.parsed.id]
    assert (await p.get_enrollment(seated.parsed.id, client=client)).parsed.score is None
    events = await p.list_events(waiting.id, client=staff)
    assert [(e.from_, e.to) for e in events.parsed.items] == [
        (None, "waitlisted"), ("waitlisted", "withdrawn"),
    ]  # fmt: skip

    # Results: one by one, as a JSON array, and as a CSV file.
    early = m.CompleteRequest(score=90, attendance=95)
    assert (
        await p.complete_enrollment(enrolled[0].id, client=staff, body=early)
    ).status_code == 409
    assert (await p.start_cohort(cohort.id, client=staff)).parsed.status == "in_progress"
    # Attendance: sessions (one, many), marks (JSON and CSV), percents, delete.
    app: Any = p.recorder.inner.app
    app.state.clock = ManualClock(datetime(2031, 1, 12, 9, tzinfo=UTC))
    two = m.SessionsCreate.from_dict({"sessions": [{"date": "2031-01-10"}, {"date": "2031-01-11"}]})
    made = await p.create_sessions(cohort.id, client=staff, body=two)
    assert made.status_code == 201, made.content
    assert [s.date.isoformat() for s in made.parsed.items] == ["2031-01-10", "2031-01-11"]
    lab = m.SessionsCreate.from_dict({"date": "2031-01-12", "topic": "Lab"})
    one = await p.create_sessions(cohort.id, client=staff, body=lab)
    assert one.headers["Location"] == f"/api/v1/sessions/{one.parsed.id}"
    assert len((await p.list_sessions(cohort.id, client=staff)).parsed.items) == 3
    assert (await p.get_session(one.parsed.id, client=staff)).parsed.topic == "Lab"
    marks = [
        m.MarkSessionBodyItem.from_dict({"enrollment_id": enrolled[0].id, "status": "present"})
    ]
    marked = await p.mark_session(one.parsed.id, client=staff, body=marks)
    assert [r.status for r in marked.parsed.results] == ["present"], marked.content
    sheet = p.file("a.csv", f"enrollment_id,status\n{enrolled[0].id},late\n")
    first_day = made.parsed.items[0].id
    by_sheet = await p.mark_session_csv(
        first_day, client=staff, body=m.BodyMarkSessionCsv(file=sheet)
    )
    assert [r.status for r in by_sheet.parsed.results] == ["late"], by_sheet.content
    mine = await p.get_enrollment_attendance(enrolled[0].id, client=client)
    assert mine.parsed.percent == 66.67, mine.content
    roster = await p.get_cohort_attendance(cohort.id, client=staff, below=75.0)
    assert enrolled[0].id in {r.enrollment_id for r in roster.parsed.items}
    report = await p.get_attendance_report(client=reporter, group=m.GetAttendanceReportGroup.CENTRE)
    assert report.status_code == 200, report.content
    assert (await p.get_attendance_report(client=client)).status_code == 403
    spare_day = m.SessionsCreate.from_dict({"date": "2031-01-13"})
    spare_id = (await p.create_sessions(cohort.id, client=staff, body=spare_day)).parsed.id
    assert (await p.delete_session(spare_id, client=staff)).status_code == 204
    assert (await p.delete_session(one.parsed.id, client=staff)).status_code == 409
    completed = (await p.complete_enrollment(enrolled[0].id, client=staff, body=early)).parsed
    assert completed.status == "completed"
    assert completed.certificate_code
    json_rows = [
        m.CompleteCohortRowsBodyItem.from_dict(
            {"enrollment_id": enrolled[1].id, "score": 80, "attendance": 90}
        ),
        m.CompleteCohortRowsBodyItem.from_dict(
            {"enrollment_id": "no-such-id", "score": 80, "attendance": 90}
        ),
    ]
    by_json = await p.complete_cohort_rows(cohort.id, client=staff, body=json_rows)
    assert [r.status for r in by_json.parsed.results] == ["completed", "error"]
    csv = f"cnic,score,attendance\n{cnics[1]},30,90\n"
    by_csv = await p.complete_cohort_rows_csv(
        cohort.id, client=staff, body=m.BodyCompleteCohortRowsCsv(file=p.file("r.csv", csv))
    )
    assert [r.status for r in by_csv.parsed.results] == ["failed"], by_csv.content
    assert (await p.complete_cohort(cohort.id, client=staff)).parsed.status == "completed"
    spare = m.CohortCreate.from_dict(
        cohort_payload(code=unique("cohort"), start_date="2031-01-10", end_date="2031-03-10")
    )
    spare_cohort = (await p.create_cohort(client=admin, body=spare)).parsed
    assert (await p.cancel_cohort(spare_cohort.id, client=staff)).parsed.status == "cancelled"
    assert (await p.cancel_cohort(spare_cohort.id, client=staff)).status_code == 409

    # Waitlist offers: a no-show's seat is offered; accept, then the next offer declined.
    offering = m.CohortCreate.from_dict(
        cohort_payload(code=unique("cohort"), capacity=1, waitlist_mode="offer", offer_hours=24)
    )
    offer_cohort = (await p.create_cohort(client=admin, body=offering)).parsed
    assert (offer_cohort.waitlist_mode, offer_cohort.offer_hours) == ("offer", 24)
    line = [
        (await p.enroll(offer_cohort.id, client=staff, body=enrolment(who))).parsed
        for who in (applicant, others[0], others[1])
    ]
    assert (await p.accept(line[0].id, client=client)).status_code == 409
    assert (await p.no_show(line[0].id, client=staff)).parsed.status == "no_show"
    offered = (await p.get_enrollment(line[1].id, client=staff)).parsed
    assert offered.status == "offered"
    assert offered.offer_expires_at
    assert (await p.accept(line[1].id, client=staff)).parsed.status == "enrolled"
    assert (await p.no_show(line[1].id, client=staff)).parsed.status == "no_show"
    declined = await p.decline(
        line[2].id, client=staff, body=m.ReasonBody.from_dict({"reason": "Found a job"})
    )
    assert declined.parsed.status == "declined"
    assert (await p.decline(line[2].id, client=staff)).status_code == 409

    # Certificates: the record, public verification (JSON and HTML), revocation.
    code = completed.certificate_code
    record = await p.read_certificate(code, client=staff)
    assert (record.parsed.enrollment_id, record.parsed.revoked_at) == (enrolled[0].id, None)
    verified = await p.verify_certificate(code.lower().replace("-", ""), client=c["anonymous"])
    assert verified.parsed.holder_name == payload["full_name"]
    page_html = await p.verify_certificate_page(code, client=c["anonymous"])
    assert page_html.status_code == 200
    assert "<html" in page_html.parsed.lower()
    unknown = await p.verify_certificate("ZTE-0000-0000-0000-0000", client=c["anonymous"])
    assert (unknown.status_code, unknown.parsed.status) == (404, 404)
    second = by_json.parsed.results[0].certificate_code
    revoke = m.RevokeRequest(reason="Issued in error")
    assert (await p.revoke_certificate(second, client=staff, body=revoke)).status_code == 403
    revoked = await p.revoke_certificate(second, client=admin, body=revoke)
    assert revoked.parsed.revoked_reason == "Issued in error"
    gone = await p.verify_certificate(second, client=c["anonymous"])
    assert (gone.status_code, gone.parsed.reason) == (410, "Issued in error")
    assert gone.parsed.revoked_at is not None
    gone_page = await p.verify_certificate_page(second, client=c["anonymous"])
    assert gone_page.status_code == 410
    assert "Issued in error" in gone_page.parsed

    # Outcomes: the client records its applicant's follow-up, staff corrects it, imports, lists.
    follow = m.OutcomeCreate.from_dict({"follow_up": "3m", "status": "employed", "source": "phone"})
    outcome = await p.record_outcome(enrolled[0].id, client=client, body=follow)
    assert outcome.status_code == 201, outcome.content
    assert outcome.headers["Location"] == f"/api/v1/outcomes/{outcome.parsed.id}"
    assert (await p.record_outcome(enrolled[0].id, client=client, body=follow)).status_code == 409
    fix = m.OutcomeUpdate.from_dict({"status": "freelance"})
    fixed = await p.correct_outcome(outcome.parsed.id, client=staff, body=fix)
    assert fixed.parsed.corrections[0].changes["status"].to == "freelance", fixed.content
    assert (await p.get_outcome(outcome.parsed.id, client=client)).parsed.status == "freelance"
    listed_outcomes = await p.list_outcomes(enrolled[0].id, client=client)
    assert [o.id for o in listed_outcomes.parsed.items] == [outcome.parsed.id]
    outcome_csv = f"enrollment_id,follow_up,status,source\n{enrolled[0].id},6m,employed,survey\n"
    outcome_import = await p.import_outcomes(
        client=staff, body=m.BodyImportOutcomes(file=p.file("o.csv", outcome_csv))
    )
    assert (outcome_import.parsed.created, outcome_import.parsed.errors) == (1, [])
    assert (await p.list_due(client=client, limit=10)).parsed.items == []
    report = await p.get_outcomes(client=reporter)
    assert report.status_code == 200, report.content

    # Reports: progress, breakdowns as reporter ("<5") and staff (counts), feed, CSV, metrics.
    assert (await p.get_progress(client=reporter)).status_code == 200
    dimension = m.GetBreakdownDimension.COHORT
    as_reporter = await p.get_breakdown(client=reporter, dimension=dimension)
    as_staff = await p.get_breakdown(client=staff, dimension=dimension)
    assert as_reporter.status_code == as_staff.status_code == 200, as_staff.content
    row = {r.key: r.count for r in as_staff.parsed.rows}[cohort.code]
    assert row == 1
    assert {r.key: r.count for r in as_reporter.parsed.rows}[cohort.code] == "<5"
    assert (await p.get_breakdown(client=client, dimension=dimension)).status_code == 403
    feed = await p.get_completions_feed(client=reporter, limit=1)
    assert feed.status_code == 200
    assert feed.parsed.next_cursor
    following = await p.get_completions_feed(client=reporter, after=feed.parsed.next_cursor)
    assert following.status_code == 200
    exported = await p.get_completions_csv(client=reporter)
    assert exported.status_code == 200
    assert exported.parsed.startswith("enrollment_id")
    metrics = await p.get_metrics(client=reporter)
    assert metrics.status_code == 200
    assert "# TYPE" in metrics.parsed

    # Events: the feed, and a webhook endpoint through its whole life.
    events = await p.events_feed(client=client, types="applicant.*", limit=500)
    assert events.status_code == 200, events.content
    assert applicant.id in [e.data["applicant_id"] for e in events.parsed.items]
    assert events.parsed.next_cursor
    hook_body = m.WebhookCreate.from_dict(
        {"url": "https://93.184.216.34/hook", "events": ["enrollment.*"], "description": "app"}
    )
    hook = await p.create_webhook(client=client, body=hook_body)
    assert hook.status_code == 201, hook.content
    assert hook.parsed.secret.startswith("whsec_")
    hook_id = hook.parsed.id
    assert hook_id in [w.id for w in (await p.list_webhooks(client=client)).parsed.items]
    assert (await p.get_webhook(hook_id, client=staff)).status_code == 404
    assert (await p.get_webhook(hook_id, client=client)).parsed.enabled is True
    renamed = m.WebhookUpdate.from_dict({"description": "renamed"})
    updated = await p.update_webhook(hook_id, client=client, body=renamed)
    assert updated.parsed.description == "renamed"
    rotated = await p.rotate_secret(hook_id, client=client)
    assert rotated.parsed.secret.startswith("whsec_")
    assert rotated.parsed.secret != hook.parsed.secret
    assert (await p.send_test(hook_id, client=client)).status_code == 202
    deliveries = await p.list_deliveries(hook_id, client=client)
    assert deliveries.status_code == 200, deliveries.content
    since = m.ReplayRequest.from_dict({"since": "2020-01-01T00:00:00Z"})
    replayed_hooks = await p.replay(hook_id, client=client, body=since)
    assert replayed_hooks.status_code == 202, replayed_hooks.content
    assert replayed_hooks.parsed.queued >= 1
    assert (await p.delete_webhook(hook_id, client=client)).status_code == 204
    assert (await p.get_webhook(hook_id, client=client)).status_code == 404

    in_document = {
        op["operationId"] for item in p.gen.spec["paths"].values() for op in item.values()
    }
    assert in_document - p.recorder.called == set(), "operations the lifecycle never called"
