"""Small typed factories that insert rows directly, for arranging a test's data.

They flush but never commit: the test's transaction is rolled back at the end.
Counters (``seats_taken``, ``waitlist_length``, ``queue_seq``) are kept
consistent with the rows they create.
"""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.keys import create_key
from service.models import ApiKey, Applicant, Centre, Certificate, Cohort, Enrollment, Programme
from service.models.base import utcnow
from service.models.enums import SEAT_HOLDING_STATUSES, EnrollmentStatus

_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_seq)}-{random.randrange(10**6)}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Key(str):
    """A new API key's bearer token that also carries the key's ``id`` and ``name``.

    It is the token itself (a ``str``), so ``auth(key)`` and every call that takes a
    token take it as it is; ``key.id`` saves a test the lookup by token hash.
    """

    id: str
    name: str

    def __new__(cls, token: str, *, id: str, name: str) -> Key:  # noqa: A002
        made = super().__new__(cls, token)
        made.id = id
        made.name = name
        return made

    @property
    def token(self) -> str:
        return str(self)


async def make_key(
    session: AsyncSession, role: str = "admin", *, centres: list[str] | None = None
) -> Key:
    """Create an API key; returns its bearer token, with the key's id and name on it."""
    name = unique(role)
    token = await create_key(session, role=role, name=name, centres=centres or [])
    key_id = await session.scalar(select(ApiKey.id).where(ApiKey.name == name))
    assert key_id is not None
    return Key(token, id=key_id, name=name)


def random_cnic() -> str:
    digits = f"{random.randrange(10**13):013d}"
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"


def random_phone() -> str:
    return f"+923{random.randrange(10**9):09d}"


def applicant_payload(**overrides: object) -> dict[str, object]:
    """A valid POST /applicants body."""
    body: dict[str, object] = {
        "cnic": random_cnic(),
        "full_name": "Ayesha Khan",
        "date_of_birth": "2002-03-14",
        "gender": "female",
        "email": "ayesha.khan@example.pk",
        "phone": "0300" + f"{random.randrange(10**7):07d}",
        "province": "punjab",
        "district": "Lahore",
        "education_level": "bachelor",
        "consent": True,
    }
    body.update(overrides)
    return body


def cohort_payload(**overrides: object) -> dict[str, object]:
    """A valid POST /cohorts body."""
    body: dict[str, object] = {
        "programme": "zte-ict",
        "centre": "isb-gitc",
        "code": "zte-cloud-2027-01",
        "name": "Cloud fundamentals, January 2027",
        "track": "cloud",
        "start_date": "2027-01-10",
        "end_date": "2027-03-10",
        "capacity": 30,
        "mode": "onsite",
    }
    body.update(overrides)
    return body


async def make_applicant(
    session: AsyncSession,
    *,
    created_by_key_id: str | None = None,
    date_of_birth: date = date(2002, 3, 14),
    **overrides: object,
) -> Applicant:
    values: dict[str, object] = {
        "cnic": random_cnic(),
        "full_name": "Ayesha Khan",
        "gender": "female",
        "email": "ayesha.khan@example.pk",
        "phone": random_phone(),
        "province": "punjab",
        "district": "Lahore",
        "education_level": "bachelor",
    }
    values.update(overrides)
    applicant = Applicant(
        date_of_birth=date_of_birth,
        consent_at=utcnow(),
        created_by_key_id=created_by_key_id,
        **values,
    )
    session.add(applicant)
    await session.flush()
    return applicant


async def programme(session: AsyncSession, code: str = "zte-ict") -> Programme:
    found = await session.scalar(select(Programme).where(Programme.code == code))
    assert found is not None, f"programme {code} is not seeded"
    return found


async def centre(session: AsyncSession, code: str = "isb-gitc") -> Centre:
    found = await session.scalar(select(Centre).where(Centre.code == code))
    if found is None:
        found = Centre(code=code, name=f"Centre {code}", city="Lahore", province="punjab")
        session.add(found)
        await session.flush()
    return found


async def make_cohort(
    session: AsyncSession,
    *,
    capacity: int = 10,
    programme_code: str = "zte-ict",
    centre_code: str = "isb-gitc",
    status: str = "open",
    start_date: date | None = None,
    **overrides: object,
) -> Cohort:
    start = start_date or (date.today() + timedelta(days=30))
    values: dict[str, object] = {
        "code": unique("cohort"),
        "name": "Cloud fundamentals",
        "track": "cloud",
        "end_date": start + timedelta(days=60),
        "mode": "onsite",
    }
    values.update(overrides)
    cohort = Cohort(
        programme_id=(await programme(session, programme_code)).id,
        centre_id=(await centre(session, centre_code)).id,
        capacity=capacity,
        status=status,
        start_date=start,
        min_age=18,
        max_age=35,
        pass_score=50,
        min_attendance=75,
        seats_taken=0,
        waitlist_length=0,
        queue_seq=0,
        offers_pending=0,
        **values,
    )
    session.add(cohort)
    await session.flush()
    return cohort


async def make_enrollment(
    session: AsyncSession,
    cohort: Cohort,
    applicant: Applicant | None = None,
    *,
    status: str = "enrolled",
    score: float | None = None,
    attendance: float | None = None,
    offer_expires_at: datetime | None = None,
) -> Enrollment:
    """Insert an enrollment in any status, keeping the cohort's counters true (an
    ``offered`` one expires in 48 h unless ``offer_expires_at`` says otherwise)."""
    applicant = applicant or await make_applicant(session)
    cohort.queue_seq += 1
    if status in SEAT_HOLDING_STATUSES:
        cohort.seats_taken += 1
    if status == EnrollmentStatus.waitlisted:
        cohort.waitlist_length += 1
    if status == EnrollmentStatus.offered:
        cohort.offers_pending += 1
        offer_expires_at = offer_expires_at or utcnow() + timedelta(hours=48)
    enrollment = Enrollment(
        cohort_id=cohort.id,
        applicant_id=applicant.id,
        status=status,
        queue_no=cohort.queue_seq,
        score=score,
        attendance=attendance,
        completed_at=utcnow() if status in ("completed", "failed") else None,
        offer_expires_at=offer_expires_at,
    )
    session.add(enrollment)
    await session.flush()
    return enrollment


async def make_certificate(
    session: AsyncSession, enrollment: Enrollment, *, code: str | None = None
) -> Certificate:
    cert = Certificate(
        enrollment_id=enrollment.id,
        code=code or f"ZTE-{random.randrange(16**12):012X}",
    )
    session.add(cert)
    await session.flush()
    return cert
