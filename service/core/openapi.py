"""The OpenAPI document: what FastAPI generates, corrected to say exactly what the service does.

Partner apps generate their clients from ``/openapi.json``, so the document is
a product. FastAPI's output is post-processed here, once, for every operation:

- errors are ``application/problem+json`` (FastAPI documents its own 422 body);
  every operation may answer 422 (:mod:`service.core.routing` checks every
  input's text), 503 (database unavailable, with ``Retry-After``) and, with a
  body, 413;
- ``Idempotency-Key`` is declared where it is honoured, with the
  ``Idempotent-Replayed`` header of a replayed answer;
- a file part is ``format: binary``, a single-value ``Literal`` is an ``enum``
  (generators mishandle ``const``), an optional body is its object schema;
- every property of a response schema is ``required``: responses are
  serialised whole, ``null`` included;
- 201s declare their ``Location`` and every response declares the ``links``
  a client follows from it (an id in the body fills another operation's path).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from service.core.errors import PROBLEM_MEDIA_TYPE, Problem

PROBLEM_SCHEMA_REF = {"$ref": "#/components/schemas/Problem"}
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_REF_PREFIX = "#/components/schemas/"
# Request body properties a link fills from a response (identifiers, never results).
_BODY_LINKED = {"applicant_id", "cohort_id", "enrollment_id", "cnic"}
# Path parameters filled from a response body property of another name.
_PARAMETER_SOURCES = {"code": ("code", "certificate_code")}


def operation_id(route: APIRoute) -> str:
    """The endpoint function's name: ``register_applicant``, not ``..._api_v1_applicants_post``."""
    return route.name


def install_openapi(app: FastAPI) -> None:
    """Serve the corrected document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        correct(document)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def correct(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template=_REF_PREFIX + "{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer enr_...`.",
    }
    operations = list(_operations(document))
    for _path, _method, operation in operations:
        _document_errors(operation)
        _document_idempotency(operation)
        _optional_body(operation)
    _document_locations(document)
    _binary_files(schemas)
    _const_to_enum(document)
    _required_outputs(operations, schemas)
    _links(operations, schemas)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            yield path, method, operation


def _problem_entry(status: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA_REF}},
    }


CONTENT_LANGUAGE = {
    "description": (
        "`ur` or `en`: the language of `title`, `detail` and `errors[].message`, chosen by "
        "`Accept-Language` (`errors[].code` is the same in both)."
    ),
    "schema": {"type": "string", "enum": ["en", "ur"]},
}


def _retry_after(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "integer"}}


def _document_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    # Every route is a CheckedRoute: unstorable text in any parameter is a 422.
    responses["422"] = _problem_entry(422)
    if "requestBody" in operation:
        responses.setdefault("413", _problem_entry(413))
    unavailable = responses.setdefault("503", _problem_entry(503))
    unavailable.setdefault("headers", {})["Retry-After"] = _retry_after(
        "Seconds to wait before retrying."
    )
    if "429" in responses:
        responses["429"].setdefault("headers", {})["Retry-After"] = _retry_after(
            "Seconds until the rate limit allows another request."
        )
    if "401" in responses:
        operation["security"] = [{"bearer": []}]
    for entry in responses.values():
        for media_type, media in entry.get("content", {}).items():
            if not media and not media_type.endswith("json"):
                media["schema"] = {"type": "string"}  # text (CSV, Prometheus): read as text
    # An operation that declares problem errors answers them as problem+json only, in
    # the language Accept-Language negotiates (docs/api.md "Languages").
    for status, entry in responses.items():
        content = entry.get("content", {})
        if status.startswith(("4", "5")) and PROBLEM_MEDIA_TYPE in content:
            content.pop("application/json", None)
            entry.setdefault("headers", {})["Content-Language"] = CONTENT_LANGUAGE


def _document_idempotency(operation: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    header = next((p for p in parameters if p["name"] == IDEMPOTENCY_HEADER), None)
    if header is None:
        return
    header["schema"] = {"type": "string", "minLength": 1, "maxLength": 255}
    header["description"] = (
        "Any unique string (a UUID is fine), scoped to your API key, this method and path. "
        "A retry with the same key and body answers the first response without acting again; "
        "the same key with another body is a 422."
    )
    for status, entry in operation["responses"].items():
        if status.startswith("2"):
            entry.setdefault("headers", {})[REPLAYED_HEADER] = {
                "description": "`true` when this is the stored answer to an earlier request.",
                "schema": {"type": "string", "enum": ["true"]},
            }


def _optional_body(operation: dict[str, Any]) -> None:
    """``X | None`` as an optional body: sending nothing means none, so declare X alone."""
    body = operation.get("requestBody")
    if body is None or body.get("required"):
        return
    for media in body.get("content", {}).values():
        variants = media.get("schema", {}).get("anyOf", [])
        rest = [v for v in variants if v != {"type": "null"}]
        if len(variants) == 2 and len(rest) == 1:
            media["schema"] = rest[0]


def location_templates(document: dict[str, Any]) -> dict[str, str]:
    """operationId of each create (201) → the path of the resource it creates, ``{id}`` to fill.

    The resource's path is the GET with one path parameter answering the same schema or,
    failing that, the GET one path parameter below the create's own path (``POST
    /applicants`` answers ``ApplicantRegistered``, read back at ``GET /applicants/{id}``).
    """
    readers = {}
    below: dict[str, str] = {}
    for path, method, operation in _operations(document):
        ref = _success_ref(operation, "200")
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        if method == "get" and ref and len(names) == 1:
            template = path.replace(f"{{{names[0]}}}", "{id}")
            readers[ref] = template
            below[template.removesuffix("/{id}")] = template
    templates = {}
    for path, _method, operation in _operations(document):
        ref = _success_ref(operation, "201")
        if ref in readers:
            templates[operation["operationId"]] = readers[ref]
        elif ref and path in below:
            templates[operation["operationId"]] = below[path]
    return templates


def _success_ref(operation: dict[str, Any], status: str) -> str:
    content = operation.get("responses", {}).get(status, {}).get("content", {})
    ref: str = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    return ref


def _document_locations(document: dict[str, Any]) -> None:
    templates = location_templates(document)
    for _path, _method, operation in _operations(document):
        template = templates.get(operation["operationId"])
        if template is not None:
            operation["responses"]["201"].setdefault("headers", {})["Location"] = {
                "description": f"The new resource: `{template}`.",
                "schema": {"type": "string"},
                "required": True,
            }


def _binary_files(schemas: dict[str, Any]) -> None:
    """A file part is ``format: binary``: without it generators send the file as a text field."""
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            if prop.get("contentMediaType") == "application/octet-stream":
                prop.pop("contentMediaType")
                prop["format"] = "binary"


def _const_to_enum(node: Any) -> None:
    if isinstance(node, dict):
        if "const" in node:
            node["enum"] = [node.pop("const")]
        for value in node.values():
            _const_to_enum(value)
    elif isinstance(node, list):
        for value in node:
            _const_to_enum(value)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            yield ref.removeprefix(_REF_PREFIX)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _closure(roots: Iterator[str], schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        stack.extend(_refs(schemas[name]))
    return seen


def _required_outputs(
    operations: list[tuple[str, str, dict[str, Any]]], schemas: dict[str, Any]
) -> None:
    """Response schemas are serialised whole: a property that may be null is still present."""
    inputs = _closure(
        (ref for _p, _m, op in operations for key in ("requestBody", "parameters")
         for ref in _refs(op.get(key))),
        schemas,
    )  # fmt: skip
    outputs = _closure(
        (ref for _p, _m, op in operations for ref in _refs(op["responses"])), schemas
    )
    for name in outputs - inputs - {"Problem"}:
        properties = schemas[name].get("properties")
        if properties:
            schemas[name]["required"] = list(properties)


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].removeprefix(_REF_PREFIX)]
    return schema


def _resource(schema_name: str) -> str:
    """``ApplicantRead`` (or ``ApplicantRegistered``, a registration's answer) → ``applicant``:
    the path parameter ``applicant_id`` takes its ``id``."""
    return re.sub(r"(Read|Registered)$", "", schema_name).lower()


def _parameter_value(parameter: str, resource: str, properties: dict[str, Any]) -> str | None:
    sources = _PARAMETER_SOURCES.get(parameter, (parameter,))
    if parameter == f"{resource}_id":
        sources = ("id", *sources)
    for source in sources:
        if source in properties:
            return f"$response.body#/{source}"
    return None


def _body_required(operation: dict[str, Any], schemas: dict[str, Any]) -> list[str]:
    """The required properties of a JSON object body (empty: no such body)."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return []
    required: list[str] = _resolve(schema, schemas).get("required", [])
    return required


def _links(operations: list[tuple[str, str, dict[str, Any]]], schemas: dict[str, Any]) -> None:
    """From each success response, a link to every operation whose path it can fill.

    Register → read, patch, list enrollments; create cohort → enrol, start, complete;
    enrol → read, withdraw, complete; complete → certificate verification and revocation.
    """
    targets = [
        (
            op["operationId"],
            [p["name"] for p in op.get("parameters", []) if p["in"] == "path"],
            _body_required(op, schemas),
        )
        for _p, _m, op in operations
    ]
    for _path, _method, operation in operations:
        for status, entry in operation["responses"].items():
            if not status.startswith("2"):
                continue
            schema = entry.get("content", {}).get("application/json", {}).get("schema", {})
            ref = schema.get("$ref", "")
            if not ref:
                continue
            name = ref.removeprefix(_REF_PREFIX)
            properties = _resolve(schema, schemas).get("properties", {})
            links: dict[str, Any] = {}
            resource = _resource(name)
            for target, path_names, body_names in targets:
                if target == operation["operationId"] or not (path_names or body_names):
                    continue
                values = {n: _parameter_value(n, resource, properties) for n in path_names}
                body = {n: _parameter_value(n, resource, properties) for n in body_names}
                if not all(body.values()) or not all(n in _BODY_LINKED for n in body_names):
                    body = {}  # the client writes this body itself
                if not all(values.values()) or not (values or body):
                    continue
                link: dict[str, Any] = {"operationId": target}
                if values:
                    link["parameters"] = values
                if body:
                    link["requestBody"] = body
                links[target] = link
            if links:
                entry["links"] = links
