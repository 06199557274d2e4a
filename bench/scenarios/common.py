"""Helpers shared by the scenario modules."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.harness import BenchError, Pending, Server


def require_endpoint(server: Server, method: str, path: str) -> str:
    """The OpenAPI path matching ``path`` ({x} matches any parameter), or raise Pending."""
    paths = server.openapi_paths()
    pattern = "^" + re.sub(r"\\\{[^}]*\\\}", r"\\{[^}]+\\}", re.escape(path)) + "$"
    for candidate, ops in paths.items():
        if re.match(pattern, candidate) and method.lower() in ops:
            return candidate
    raise Pending(f"{method.upper()} {path} is not in this build yet")


def has_endpoint(server: Server, method: str, path: str) -> bool:
    try:
        require_endpoint(server, method, path)
    except Pending:
        return False
    return True


def create_cohort(
    server: Server,
    token: str,
    code: str,
    capacity: int,
    reserved: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """POST /api/v1/cohorts (contract fields); starts in 2 weeks so ages 18..35 qualify;
    ``reserved``: its reserved-seat pools."""
    start = date.today() + timedelta(days=14)
    body = {
        "programme": "zte-ict",
        "centre": "isb-gitc",
        "code": code,
        "name": f"Bench {code}",
        "track": "cloud-computing",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=90)).isoformat(),
        "capacity": capacity,
        "mode": "onsite",
    }
    if reserved:
        body["reserved"] = reserved
    r = server.post("/api/v1/cohorts", body, token)
    if r.status_code != 201:
        raise BenchError(f"creating cohort {code}: {r.status_code} {r.text[:500]}")
    data: dict[str, Any] = r.json()
    return data


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path
