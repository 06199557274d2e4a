"""ORM tables, one module per table."""

from service.models import report_indexes  # noqa: F401  (registers indexes)
from service.models.api_key import ApiKey, api_key_centres
from service.models.applicant import Applicant
from service.models.applicant_client import ApplicantClient
from service.models.applicant_event import ApplicantEvent
from service.models.attendance_mark import AttendanceMark
from service.models.attendance_mark_change import AttendanceMarkChange
from service.models.attendance_session import AttendanceSession
from service.models.base import Base
from service.models.centre import Centre
from service.models.certificate import Certificate
from service.models.cohort import Cohort
from service.models.cohort_pool import CohortPool
from service.models.dashboard_session import DashboardSession
from service.models.district import District, DistrictAlias, PlacesVersion
from service.models.enrollment import Enrollment
from service.models.enrollment_event import EnrollmentEvent
from service.models.event import Event
from service.models.idempotency import IdempotencyRecord
from service.models.outcome import (
    Outcome,
    OutcomeCorrection,
    OutcomeDueCursor,
    ReportOutcomeCount,
)
from service.models.programme import Programme
from service.models.report_applicant_programme import ReportApplicantProgramme
from service.models.report_breakdown_count import ReportBreakdownCount
from service.models.report_feed import ReportFeedEntry
from service.models.report_feed_counter import ReportFeedCounter
from service.models.report_programme_count import ReportProgrammeCount
from service.models.report_programme_daily import ReportProgrammeDaily
from service.models.report_target_count import ReportTargetCount
from service.models.report_target_daily import ReportTargetDaily
from service.models.report_target_member import ReportTargetMember
from service.models.server_secret import ServerSecret
from service.models.target import Target, target_programmes
from service.models.webhook import Webhook, WebhookDelivery, WebhookFanout

__all__ = [
    "ApiKey",
    "Applicant",
    "ApplicantClient",
    "ApplicantEvent",
    "AttendanceMark",
    "AttendanceMarkChange",
    "AttendanceSession",
    "Base",
    "Centre",
    "Certificate",
    "Cohort",
    "CohortPool",
    "DashboardSession",
    "District",
    "DistrictAlias",
    "Enrollment",
    "EnrollmentEvent",
    "Event",
    "IdempotencyRecord",
    "Outcome",
    "OutcomeCorrection",
    "OutcomeDueCursor",
    "PlacesVersion",
    "Programme",
    "ReportApplicantProgramme",
    "ReportBreakdownCount",
    "ReportFeedCounter",
    "ReportFeedEntry",
    "ReportOutcomeCount",
    "ReportProgrammeCount",
    "ReportProgrammeDaily",
    "ReportTargetCount",
    "ReportTargetDaily",
    "ReportTargetMember",
    "ServerSecret",
    "Target",
    "Webhook",
    "WebhookDelivery",
    "WebhookFanout",
    "api_key_centres",
    "target_programmes",
]
