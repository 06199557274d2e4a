"""Indexes the reports need on tables other domains own.

Declared here (bound to those tables' columns) so the reports migration owns
them and autogenerate still sees them.
"""

from sqlalchemy import Index

from service.models.enrollment import Enrollment

# Set-based breakdowns filter completions and seat-holding enrollments by status
# and date range.
enrollments_status_completed_at = Index(
    "ix_enrollments_status_completed_at", Enrollment.status, Enrollment.completed_at
)
enrollments_status_created_at = Index(
    "ix_enrollments_status_created_at", Enrollment.status, Enrollment.created_at
)
