"""Schema-driven fuzzing of the app's own OpenAPI document with schemathesis.

Every operation, as every role, gets generated requests (valid ones and, where
the schema allows, deliberately invalid ones) and each answer is checked: no
5xx, a status code the document declares, the declared content type and a body
and headers that match the declared schema. Invalid requests must be refused
(4xx). The app runs in-process over ASGI on schemathesis' own event-loop thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
# Following the document's links: a resource a 201 announced must then be found.
STATEFUL_CHECKS = [*CHECKS, ensure_resource_availability, use_after_free]

ROLES = ("admin", "staff", "client", "reporter")


@dataclass
class FuzzReport:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    by_status: dict[int, int] = field(default_factory=dict)


def load_schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _path_names(operation: Any) -> list[str]:
    return [p.name for p in operation.path_parameters]


def fuzz(
    app: FastAPI,
    tokens: dict[str, str | None],
    *,
    examples: int,
    known_ids: dict[str, str] | None = None,
    seed: int | None = 0,
    select: Callable[[Any], bool] | None = None,
) -> FuzzReport:
    """Run ``examples`` cases per operation, per mode and per token; collect every failure."""
    schema = load_schema(app)
    report = FuzzReport()
    known_ids = known_ids or {}
    for operation in operations(schema):
        if select is not None and not select(operation):
            continue
        names = _path_names(operation)
        fixed = {n: known_ids[n] for n in names if n in known_ids}
        variants: list[dict[str, str] | None] = [None]
        if fixed and len(fixed) == len(names):
            variants.append(fixed)
        for role, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"} if token else None
            for path_parameters in variants:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    _run_one(
                        operation,
                        report,
                        role=role,
                        headers=headers,
                        path_parameters=path_parameters,
                        mode=mode,
                        # Without a token nearly everything is a 401: one case is enough.
                        examples=examples if token else 1,
                        seed=seed,
                    )
    return report


def _run_one(
    operation: Any,
    report: FuzzReport,
    *,
    role: str,
    headers: dict[str, str] | None,
    path_parameters: dict[str, str] | None,
    mode: GenerationMode,
    examples: int,
    seed: int | None,
) -> None:
    try:
        strategy = operation.as_strategy(
            generation_mode=mode, headers=headers, path_parameters=path_parameters
        )
    except Exception as exc:  # an operation with nothing to negate, for instance
        if mode is GenerationMode.NEGATIVE:
            return
        raise AssertionError(f"{operation.label}: cannot generate cases: {exc!r}") from exc
    checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else CHECKS
    label = f"{operation.label} as {role} ({mode.value}{', known ids' if path_parameters else ''})"

    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is not None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(case=strategy)
    def run(case: Any) -> None:
        if headers:
            case.headers = {**(case.headers or {}), **headers}
        response = case.call()
        report.requests += 1
        report.by_status[response.status_code] = report.by_status.get(response.status_code, 0) + 1
        case.validate_response(response, checks=checks)

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        return
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is the latter
        report.failures.append(f"{label}: {type(exc).__name__}: {_describe(exc)}"[:3000])


def fuzz_stateful(
    app: FastAPI, token: str, *, scenarios: int, steps: int, seed: int | None = 0
) -> FuzzReport:
    """Schemathesis' stateful phase: chains of calls that follow the document's ``links``.

    Each scenario starts at a random operation and feeds ids from each answer
    (a registered applicant, a created cohort, an enrollment, a certificate
    code) into the next call, as the links declare.
    """
    schema = load_schema(app)
    report = FuzzReport()
    headers = {"Authorization": f"Bearer {token}"}
    base: Any = schema.as_state_machine()

    class Workflow(base):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            report.requests += 1
            status = response.status_code
            report.by_status[status] = report.by_status.get(status, 0) + 1
            case.validate_response(response, checks=STATEFUL_CHECKS)

    try:
        Workflow.run(
            settings=hypothesis.settings(
                max_examples=scenarios,
                stateful_step_count=steps,
                deadline=None,
                database=None,
                derandomize=seed is not None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
                verbosity=hypothesis.Verbosity.quiet,
            )
        )
    except (Exception, BaseExceptionGroup) as exc:
        report.failures.append(f"stateful: {type(exc).__name__}: {_describe(exc)}"[:5000])
    return report


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions) + "".join(
            f"\n{note}" for note in getattr(exc, "__notes__", [])
        )
    return str(exc)


def dispose(app: FastAPI) -> None:
    """Close the app's pool on the loop its connections were opened on."""
    portal = asgi._get_portal()
    for db in {id(d): d for d in (app.state.db, app.state.reporting_db)}.values():
        portal.call(db.dispose)


def summary(report: FuzzReport) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(report.by_status.items()))
    return f"{report.requests} requests ({statuses}); {len(report.failures)} failures"


def iter_failures(report: FuzzReport) -> Iterable[str]:
    return report.failures
