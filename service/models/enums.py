"""The closed vocabularies of the domain, stored as strings with CHECK constraints."""

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    staff = "staff"
    client = "client"
    reporter = "reporter"


class Province(StrEnum):
    punjab = "punjab"
    sindh = "sindh"
    kp = "kp"
    balochistan = "balochistan"
    ict = "ict"
    gb = "gb"
    ajk = "ajk"


class Gender(StrEnum):
    female = "female"
    male = "male"
    transgender = "transgender"


class EducationLevel(StrEnum):
    none = "none"
    primary = "primary"
    matric = "matric"
    intermediate = "intermediate"
    bachelor = "bachelor"
    master = "master"
    phd = "phd"


class CohortMode(StrEnum):
    onsite = "onsite"
    online = "online"
    hybrid = "hybrid"


class CohortStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


class EnrollmentStatus(StrEnum):
    enrolled = "enrolled"
    waitlisted = "waitlisted"
    withdrawn = "withdrawn"
    dropped = "dropped"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    # Waitlist offers (cohorts in ``offer`` mode) and no-shows.
    offered = "offered"
    declined = "declined"
    expired = "expired"
    no_show = "no_show"


class WaitlistMode(StrEnum):
    """What a freed seat becomes: the waitlist's head ``enrolled`` at once (``auto``),
    or ``offered`` for ``offer_hours`` (``offer``)."""

    auto = "auto"
    offer = "offer"


# One live enrollment per applicant and cohort (the unique index in models/enrollment.py).
LIVE_STATUSES: tuple[EnrollmentStatus, ...] = (
    EnrollmentStatus.enrolled,
    EnrollmentStatus.waitlisted,
    EnrollmentStatus.offered,
)
# Counted in a cohort's seats_taken: an offer holds its seat until it is answered or expires.
SEAT_HOLDING_STATUSES: tuple[EnrollmentStatus, ...] = (
    EnrollmentStatus.enrolled,
    EnrollmentStatus.offered,
    EnrollmentStatus.completed,
    EnrollmentStatus.failed,
)
# The reports' ``enrollments`` metric (contract, Reports): an open offer is not yet one.
REPORTED_ENROLLMENT_STATUSES: tuple[EnrollmentStatus, ...] = (
    EnrollmentStatus.enrolled,
    EnrollmentStatus.completed,
    EnrollmentStatus.failed,
)


class TargetMetric(StrEnum):
    completions = "completions"
    trainees = "trainees"
    enrollments = "enrollments"
    # Distinct trainees with a 6m outcome of employed, self_employed or freelance.
    employed = "employed"


class FollowUp(StrEnum):
    m3 = "3m"
    m6 = "6m"
    m12 = "12m"


class OutcomeStatus(StrEnum):
    employed = "employed"
    self_employed = "self_employed"
    freelance = "freelance"
    further_study = "further_study"
    unemployed = "unemployed"
    unreachable = "unreachable"


# Statuses that count as employed in reports and the ``employed`` target metric.
EMPLOYED_STATUSES: tuple[OutcomeStatus, ...] = (
    OutcomeStatus.employed,
    OutcomeStatus.self_employed,
    OutcomeStatus.freelance,
)


class IncomeBand(StrEnum):
    """PKR a month."""

    lt_25k = "lt_25k"
    k25_50 = "25k_50k"
    k50_100 = "50k_100k"
    gt_100k = "gt_100k"


class OutcomeSource(StrEnum):
    phone = "phone"
    partner_app = "partner_app"
    self_report = "self_report"
    survey = "survey"


class AttendanceStatus(StrEnum):
    present = "present"
    late = "late"
    excused = "excused"
    absent = "absent"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)
