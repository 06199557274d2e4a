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


LIVE_STATUSES: tuple[EnrollmentStatus, ...] = (
    EnrollmentStatus.enrolled,
    EnrollmentStatus.waitlisted,
)
SEAT_HOLDING_STATUSES: tuple[EnrollmentStatus, ...] = (
    EnrollmentStatus.enrolled,
    EnrollmentStatus.completed,
    EnrollmentStatus.failed,
)


class TargetMetric(StrEnum):
    completions = "completions"
    trainees = "trainees"
    enrollments = "enrollments"


class AttendanceStatus(StrEnum):
    present = "present"
    late = "late"
    excused = "excused"
    absent = "absent"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)
