"""ORM tables, one module per table."""

from service.models.api_key import ApiKey, api_key_centres
from service.models.applicant import Applicant
from service.models.base import Base
from service.models.centre import Centre
from service.models.certificate import Certificate
from service.models.cohort import Cohort
from service.models.enrollment import Enrollment
from service.models.enrollment_event import EnrollmentEvent
from service.models.idempotency import IdempotencyRecord
from service.models.programme import Programme
from service.models.target import Target, target_programmes

__all__ = [
    "ApiKey",
    "Applicant",
    "Base",
    "Centre",
    "Certificate",
    "Cohort",
    "Enrollment",
    "EnrollmentEvent",
    "IdempotencyRecord",
    "Programme",
    "Target",
    "api_key_centres",
    "target_programmes",
]
