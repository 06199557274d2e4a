"""The document declares what a generated client and a stateful tester need to follow the API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.openapi.client import document


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in spec["paths"].values() for op in item.values()}


def test_creates_declare_location_and_idempotency(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    creates = {name for name, op in operations.items() if "201" in op["responses"]}
    assert creates == {
        "create_programme", "create_centre", "create_target",
        "create_cohort", "register_applicant", "enroll", "create_district", "create_webhook",
        "create_sessions",
        "record_outcome",
    }  # fmt: skip
    for name in creates:
        op = operations[name]
        header = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
        assert [p["in"] for p in header] == ["header"], name
        assert "Idempotent-Replayed" in op["responses"]["201"]["headers"], name
    # A created resource that can be read back says where (programmes and the
    # rest of the catalogue are read as lists only).
    for name, path in [
        ("create_cohort", "/api/v1/cohorts/{id}"),
        ("register_applicant", "/api/v1/applicants/{id}"),
        ("enroll", "/api/v1/enrollments/{id}"),
        ("create_sessions", "/api/v1/sessions/{id}"),
        ("record_outcome", "/api/v1/outcomes/{id}"),
    ]:
        location = operations[name]["responses"]["201"]["headers"]["Location"]
        assert path in location["description"]


@pytest.mark.parametrize(
    ("source", "targets"),
    [
        ("register_applicant", {"get_applicant", "update_applicant", "lookup_applicant",
                                "list_applicant_enrollments"}),
        ("create_cohort", {"enroll", "get_cohort", "start_cohort", "complete_cohort",
                           "cancel_cohort", "complete_cohort_rows"}),
        ("enroll", {"get_enrollment", "withdraw", "drop", "complete_enrollment", "list_events"}),
        ("complete_enrollment", {"verify_certificate", "read_certificate",
                                 "revoke_certificate"}),
    ],
)  # fmt: skip
def test_links_follow_the_partner_chains(
    spec: dict[str, Any], source: str, targets: set[str]
) -> None:
    operations = _operations(spec)
    success = next(v for k, v in operations[source]["responses"].items() if k.startswith("2"))
    assert targets <= set(success["links"])


def test_every_link_names_a_real_operation_and_its_parameters(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    for name, op in operations.items():
        for status, response in op["responses"].items():
            for link in response.get("links", {}).values():
                target = operations[link["operationId"]]
                path_names = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                assert set(link.get("parameters", {})) == path_names, (name, status, link)
                for expression in [*link.get("parameters", {}).values(),
                                   *link.get("requestBody", {}).values()]:  # fmt: skip
                    assert expression.startswith("$response.body#/"), expression


def test_schemas_say_what_generators_can_read(spec: dict[str, Any]) -> None:
    text = json.dumps(spec)
    assert '"const"' not in text  # generators mishandle const; a one-value enum works
    assert "contentMediaType" not in text  # a file part is format: binary
    schemas = spec["components"]["schemas"]
    for name in ("Body_import_applicants", "Body_complete_cohort_rows_csv"):
        assert schemas[name]["properties"]["file"]["format"] == "binary"
    # Responses are serialised whole: nullable properties are present, hence required.
    enrollment = schemas["EnrollmentRead"]
    assert {"waitlist_position", "score", "certificate_code"} <= set(enrollment["required"])
    assert {"revoked_at", "reason"} <= set(schemas["FeedItem"]["required"])
    # Problem extension members are typed, and optional.
    problem = schemas["Problem"]
    assert {"existing_id", "current_status", "reason", "revoked_at"} <= set(problem["properties"])
    assert problem["required"] == ["type", "title", "status", "detail"]


def test_health_declares_its_bodies(spec: dict[str, Any]) -> None:
    health = spec["paths"]["/health"]["get"]["responses"]
    for status in ("200", "503"):
        assert health[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Health"
        }
    assert "422" in health  # text the database cannot store, in any query parameter


def test_request_constraints_a_client_can_check(spec: dict[str, Any]) -> None:
    registration = spec["components"]["schemas"]["ApplicantCreate"]["properties"]
    assert registration["consent"]["enum"] == [True]
    assert registration["email"]["format"] == "email"
    assert registration["full_name"]["maxLength"] == 120
    assert "pattern" in registration["cnic"]
    assert "pattern" in registration["phone"]
