"""Deterministic generators of bench data: applicants, enrollments, certificates, CSV.

Rows are plain tuples in the column order given by the ``*_COLUMNS`` constants,
ready for asyncpg ``copy_records_to_table``. Everything is derived from the row
number, so the same call always yields the same data (and unique CNICs/codes).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from service.applicants.schemas import REGISTRATION_FIELDS, STORED_FIELDS

PROVINCES = ("punjab", "sindh", "kp", "balochistan", "ict", "gb", "ajk")
DISTRICTS = ("Lahore", "Karachi South", "Peshawar", "Quetta", "Islamabad", "Gilgit", "Muzaffarabad")
GENDERS = ("female", "male", "female", "male", "transgender")
EDUCATION = ("matric", "intermediate", "bachelor", "master", "phd", "primary", "none")

# The registration fields stored as columns (declared once, by ApplicantCreate),
# between the id and the timestamps.
APPLICANT_COLUMNS = ("id", *STORED_FIELDS, "consent_at", "created_at", "updated_at")

ENROLLMENT_COLUMNS = (
    "id",
    "cohort_id",
    "applicant_id",
    "status",
    "queue_no",
    "score",
    "attendance",
    "completed_at",
    "created_at",
    "updated_at",
)

CERTIFICATE_COLUMNS = ("id", "code", "enrollment_id", "issued_at")

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def row_id(kind: int, n: int) -> str:
    """A stable, time-ordered-looking UUID (version 7 bits set) for row ``n`` of a kind."""
    value = (0x0190_0000_0000 + kind * 0x1_0000_0000 + n) << 80
    value |= 0x7 << 76
    value |= 0b10 << 62
    value |= n
    return str(uuid.UUID(int=value))


def cnic(n: int, prefix: int = 3) -> str:
    """13 digits, normalised ``#####-#######-#``; unique per (prefix, n) for n < 10**11."""
    digits = f"{prefix % 10}{n:011d}{n % 7}"
    if prefix % 10 == 0:
        digits = "3" + digits[1:]
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"


def phone(n: int) -> str:
    return f"+92300{n % 10_000_000:07d}"


def applicant_fields(n: int, prefix: int = 3) -> dict[str, Any]:
    """The POST /api/v1/applicants body of applicant ``n`` (age 19..33 in 2026).

    Its keys are ``ApplicantCreate``'s fields (``tests/bench`` checks that it validates).
    """
    return {
        "cnic": cnic(n, prefix),
        "full_name": f"Bench Applicant {n}",
        "date_of_birth": date(1993 + n % 15, 1 + n % 12, 1 + n % 28).isoformat(),
        "gender": GENDERS[n % len(GENDERS)],
        "email": f"applicant{n}@bench-mail.pk",
        "phone": phone(n),
        "province": PROVINCES[n % len(PROVINCES)],
        "district": DISTRICTS[n % len(DISTRICTS)],
        "education_level": EDUCATION[n % len(EDUCATION)],
        "consent": True,
    }


def applicant_rows(start: int, count: int, prefix: int = 3) -> list[tuple[Any, ...]]:
    rows = []
    for n in range(start, start + count):
        f = applicant_fields(n, prefix)
        f["date_of_birth"] = date.fromisoformat(f["date_of_birth"])
        at = BASE_TIME + timedelta(seconds=n % 25_000_000)
        rows.append((row_id(1, n), *(f[name] for name in STORED_FIELDS), at, at, at))
    return rows


def enrollment_status(n: int, completions: int, total: int) -> str:
    """Status of enrollment ``n``: ``completions`` of every ``total`` complete, evenly spread.

    Any prefix 0..k of the rows holds ``k * completions // total`` completions, so a
    database grown in stages keeps the same share.
    """
    if (n + 1) * completions // total > n * completions // total:
        return "completed"
    r = n % 20
    if r == 0:
        return "failed"
    if r == 1:
        return "withdrawn"
    if r == 2:
        return "dropped"
    return "enrolled"


def enrollment_rows(
    start: int,
    count: int,
    cohort_ids: list[str],
    completions: int,
    total: int,
    now: datetime,
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """(enrollment row, certificate row or None) for enrollments start..start+count.

    Enrollment ``n`` is applicant ``n``'s only enrollment, in cohort ``n % len``;
    completions (``completions`` per ``total`` rows) are spread over the last 120 days.
    """
    k = len(cohort_ids)
    for n in range(start, start + count):
        status = enrollment_status(n, completions, total)
        created = now - timedelta(days=150, seconds=n % 86_400)
        score = attendance = completed_at = None
        cert = None
        if status in ("completed", "failed"):
            score = 50.0 + n % 50 if status == "completed" else float(n % 40)
            attendance = 75.0 + n % 25 if status == "completed" else 50.0
            completed_at = now - timedelta(days=n % 120, seconds=n % 3600)
        eid = row_id(2, n)
        row = (
            eid,
            cohort_ids[n % k],
            row_id(1, n),
            status,
            n // k + 1,
            score,
            attendance,
            completed_at,
            created,
            completed_at or created,
        )
        if status == "completed":
            cert = (row_id(3, n), certificate_code(n), eid, completed_at)
        yield row, cert


def certificate_code(n: int) -> str:
    chars = []
    v = n * 2_654_435_761 + 0x5BD1E995
    for _ in range(12):
        chars.append(CODE_ALPHABET[v % 32])
        v //= 32
    s = "".join(chars)
    return f"BEN-{s[:4]}-{s[4:8]}-{s[8:]}"


def import_csv(path: Path, rows: int, prefix: int = 5) -> Path:
    """A CSV for POST /api/v1/applicants/import: header = the POST field names."""
    fields = list(REGISTRATION_FIELDS)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for n in range(rows):
            row = applicant_fields(n, prefix)
            row["consent"] = "true"
            writer.writerow(row)
    return path


def csv_rows(text: str) -> int:
    """Data rows of a CSV text (header excluded)."""
    return max(0, sum(1 for _ in csv.reader(io.StringIO(text))) - 1)
