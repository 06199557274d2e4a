"""Helpers for the applicant tests."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from service.applicants.schemas import REGISTRATION_FIELDS
from tests.factories import applicant_payload, auth

# The CSV columns are the POST body's fields.
COLUMNS = REGISTRATION_FIELDS


async def register(client: httpx.AsyncClient, token: str, **overrides: object) -> httpx.Response:
    return await client.post(
        "/api/v1/applicants", json=applicant_payload(**overrides), headers=auth(token)
    )


def fields(response: httpx.Response) -> dict[str, str]:
    """The 422 problem's errors as {field: message}."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def csv_row(**overrides: object) -> dict[str, str]:
    body = applicant_payload(**overrides)
    return {k: ("true" if v is True else str(v)) for k, v in body.items()}


def csv_bytes(
    rows: list[dict[str, str]], *, columns: tuple[str, ...] = COLUMNS, bom: bool = False
) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    data = out.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


async def upload(
    client: httpx.AsyncClient,
    token: str,
    data: bytes,
    *,
    dry_run: bool = False,
    filename: str = "applicants.csv",
) -> httpx.Response:
    params: dict[str, Any] = {"dry_run": "true"} if dry_run else {}
    return await client.post(
        "/api/v1/applicants/import",
        files={"file": (filename, data, "text/csv")},
        params=params,
        headers=auth(token),
    )
